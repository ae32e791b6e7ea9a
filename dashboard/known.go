package dashboard

// The backends the dashboard knows before any report arrives, so that a value
// nobody reported is shown as zero instead of being left out (the seed's
// finding: "no user installation reported the LDAP backend of mod_vcard").
// Derived from MongooseIM's config_metrics/1 implementations 3.6–6.8
// (see contract/erl/mim_metrics_mongooseim.erl) and the golden reports of
// test/fixtures/*/expected.json.

// knownBackends lists, per module, the backends MongooseIM can report for it;
// "online:X" is mod_muc's online_backend (6.2+).
var knownBackends = map[string][]string{
	"mod_auth_token":        {"rdbms"},
	"mod_bosh":              {"mnesia", "cets"},
	"mod_event_pusher":      {"http", "push", "rabbit", "sns", "push_mnesia", "push_rdbms"},
	"mod_event_pusher_push": {"mnesia", "rdbms"},
	"mod_http_upload":       {"s3"},
	"mod_inbox":             {"rdbms"},
	"mod_keystore":          {"mnesia"},
	"mod_last":              {"mnesia", "rdbms"},
	"mod_mam":               {"rdbms", "cassandra", "elasticsearch"},
	"mod_mam_meta":          {"rdbms", "cassandra", "elasticsearch"},
	"mod_muc":               {"mnesia", "rdbms", "online:mnesia", "online:cets"},
	"mod_muc_light":         {"mnesia", "rdbms"},
	"mod_offline":           {"mnesia", "rdbms"},
	"mod_privacy":           {"mnesia", "rdbms"},
	"mod_private":           {"mnesia", "rdbms"},
	"mod_pubsub":            {"mnesia", "rdbms"},
	"mod_pubsub_old":        {"mnesia", "rdbms"},
	"mod_roster":            {"mnesia", "rdbms"},
	"mod_vcard":             {"mnesia", "rdbms", "ldap"},
}
