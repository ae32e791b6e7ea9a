package metrics

import (
	"fmt"
	"regexp"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/etf"
)

// Warn receives one line per dropped event or param: what and why.
type Warn func(format string, args ...any)

// fields is the gather answer: field name to {ok, V} | {error, Reason}.
type fields struct {
	m    etf.Map
	warn Warn
}

// get returns a field's value, or false after warning why it is missing.
func (fs fields) get(name string) (etf.Term, bool) {
	v, ok := fs.m.GetAtom(name)
	if !ok {
		return nil, false
	}
	tup, ok := v.(etf.Tuple)
	if ok && len(tup) == 2 && etf.IsAtom(tup[0], "ok") {
		return tup[1], true
	}
	if ok && len(tup) == 2 && etf.IsAtom(tup[0], "error") {
		fs.warn("metric %s dropped: the node failed to answer it: %s", name, etf.FormatLimit(tup[1], 300))
		return nil, false
	}
	fs.warn("metric %s dropped: unexpected answer %s", name, etf.FormatLimit(v, 200))
	return nil, false
}

// count reads a non-negative integer field.
func (fs fields) count(name string) (int64, bool) {
	v, ok := fs.get(name)
	if !ok {
		return 0, false
	}
	n, ok := etf.Int(v)
	if !ok || n < 0 {
		fs.warn("metric %s dropped: want a non-negative integer, got %s", name, etf.FormatLimit(v, 100))
		return 0, false
	}
	return n, true
}

// list reads a proper-list field.
func (fs fields) list(name string) ([]etf.Term, bool) {
	v, ok := fs.get(name)
	if !ok {
		return nil, false
	}
	l, ok := etf.Elems(v)
	if !ok {
		fs.warn("metric %s dropped: want a list, got %s", name, etf.FormatLimit(v, 100))
	}
	return l, ok
}

// isIdent reports whether s is what a reported name or option value may
// look like: an Erlang-style identifier, ^[A-Za-z][A-Za-z0-9_]{0,99}$.
// Anything else (a domain, a path, an address) is dropped, so a
// misbehaving module cannot leak private data. (A loop rather than a
// regular expression: it runs for every value of every module on every
// host.)
func isIdent(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// ident returns t as an identifier string, if it is an atom, a binary or a
// charlist that looks like one.
func ident(t etf.Term) (string, bool) {
	s, ok := etf.Text(t)
	if !ok || !isIdent(s) {
		return "", false
	}
	return s, true
}

// versionRE accepts version strings such as 6.2.1 or 6.2.1-12-gabcdef0.
var versionValueRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+\-]{0,63}$`)

// FormatUptime formats milliseconds of uptime as MongooseIM does:
// DDDD-HH:MM:SS.
func FormatUptime(ms int64) string {
	s := ms / 1000
	return fmt.Sprintf("%04d-%02d:%02d:%02d", s/86400, s%86400/3600, s%3600/60, s%60)
}

// StanzaTotals are a node's stanza counters by type, kept between reports
// to compute increments.
type StanzaTotals map[string]int64

// countEvent is the event name with the count field as its value, when
// the node answered one.
func countEvent(fs fields, name, field string) []contract.Event {
	n, ok := fs.count(field)
	if !ok {
		return nil
	}
	return []contract.Event{{Name: name, Params: map[string]any{"value": n}}}
}

// dropEmpty removes the cluster event when none of its params could be read.
func dropEmpty(evs []contract.Event) []contract.Event {
	out := evs[:0]
	for _, e := range evs {
		if e.Name == contract.Cluster && len(e.Params) == 0 {
			continue
		}
		out = append(out, e)
	}
	return out
}

// moduleEvents makes one module_with_opt event per (host type, known
// module), as MongooseIM 6.1+ does, including its quirks: the host types ×
// modules cross product (a module loaded on one host type is reported for
// every host type, usually with no options), {none, _} entries skipped, and
// a key reported twice (mod_event_pusher's backends) keeping the last value.
//
// The answer is one of (see modulesExpr):
//   - {HostCount, Known, Exporting, Distinct, Indexes}: the modules, those
//     with config_metrics/1, its distinct results, and for each exporting
//     module and host (module by module) the index of its result;
//   - {HostCount, [{Module, Result}]}, with Result none (no
//     config_metrics/1: no options on any host), {same, Opts} (every host
//     answered Opts), {all, [Opts]} (one list per host) or
//     {each, [{ok, Opts} | {error, Why}]}.
//
// Events come out host by host, modules in name order within a host, as in
// MongooseIM. Events with the same params share one params map (thousands
// of hosts usually share a handful of configurations).
func moduleEvents(fs fields) []contract.Event {
	v, ok := fs.get("modules")
	if !ok {
		return nil
	}
	top, _ := v.(etf.Tuple)
	var hosts int64
	if len(top) == 2 || len(top) == 5 {
		hosts, _ = etf.Int(top[0])
	}
	var cols []moduleColumn
	switch {
	case len(top) == 5 && hosts >= 0:
		cols, ok = indexedColumns(fs, top, int(hosts))
	case len(top) == 2 && hosts >= 0:
		cols, ok = entryColumns(fs, top[1], hosts)
	default:
		ok = false
	}
	if !ok {
		fs.warn("module_with_opt dropped: malformed answer %s", etf.FormatLimit(v, 200))
		return nil
	}
	n := 0
	for _, col := range cols {
		if !col.skip {
			n += int(hosts)
		}
	}
	out := make([]contract.Event, 0, n)
	for h := 0; h < int(hosts); h++ {
		for i := range cols {
			col := &cols[i]
			params := col.params
			switch {
			case col.skip:
				continue
			case col.idx != nil:
				k := col.idx[h]
				p, seen := col.cache[k]
				if !seen {
					p = map[string]any{"module": col.mod}
					if !moduleParams(fs, col.mod, etf.Tuple{etf.Atom("ok"), col.distinct[k]}, p) {
						p = nil
					}
					col.cache[k] = p
				}
				if p == nil {
					continue
				}
				params = p
			case params == nil:
				params = map[string]any{"module": col.mod}
				if !moduleParams(fs, col.mod, col.opts[h], params) {
					continue
				}
			}
			out = append(out, contract.Event{Name: contract.ModuleWithOpt, Params: params})
		}
	}
	return out
}

// moduleColumn is one module's options on every host, in one of three
// forms: params (the same on every host), idx (an index into distinct per
// host; cache holds the params of each index seen, nil when invalid) or
// opts ({ok, Opts} | {error, Why} per host).
type moduleColumn struct {
	mod      string
	params   map[string]any
	idx      []int
	distinct []etf.Term
	cache    map[int]map[string]any
	opts     []etf.Term
	skip     bool // the same invalid options on every host: no event
}

// indexedColumns reads {HostCount, Known, Exporting, Distinct, Indexes}.
func indexedColumns(fs fields, top etf.Tuple, hosts int) ([]moduleColumn, bool) {
	known, ok1 := etf.Elems(top[1])
	exporting, ok2 := etf.Elems(top[2])
	distinct, ok3 := etf.Elems(top[3])
	idx, ok4 := indexList(top[4])
	if !ok1 || !ok2 || !ok3 || !ok4 || len(idx) != len(exporting)*hosts {
		return nil, false
	}
	for _, k := range idx {
		if k < 0 || k >= len(distinct) {
			return nil, false
		}
	}
	pos := map[etf.Atom]int{}
	for i, e := range exporting {
		if a, ok := e.(etf.Atom); ok {
			pos[a] = i
		}
	}
	var cols []moduleColumn
	for _, k := range known {
		mod, ok := ident(k)
		if !ok {
			fs.warn("module_with_opt dropped: module name %s is not an identifier", etf.FormatLimit(k, 60))
			continue
		}
		col := moduleColumn{mod: mod}
		if i, ok := pos[etf.Atom(mod)]; ok {
			col.idx, col.distinct, col.cache = idx[i*hosts:(i+1)*hosts], distinct, map[int]map[string]any{}
		} else {
			col.params = map[string]any{"module": mod}
		}
		cols = append(cols, col)
	}
	return cols, true
}

// indexList reads a list of small non-negative integers (a string when
// all are below 256).
func indexList(t etf.Term) ([]int, bool) {
	if s, ok := t.(etf.String); ok {
		out := make([]int, len(s))
		for i := 0; i < len(s); i++ {
			out[i] = int(s[i])
		}
		return out, true
	}
	l, ok := etf.Elems(t)
	if !ok {
		return nil, false
	}
	out := make([]int, len(l))
	for i, e := range l {
		n, ok := etf.Int(e)
		if !ok || n < 0 || n > 1<<31 {
			return nil, false
		}
		out[i] = int(n)
	}
	return out, true
}

// entryColumns reads [{Module, none | {same, Opts} | {all, [Opts]} |
// {each, [{ok, Opts} | {error, Why}]}}].
func entryColumns(fs fields, list etf.Term, hosts int64) ([]moduleColumn, bool) {
	entries, _ := etf.Elems(list)
	if entries == nil && !etf.Equal(list, etf.List{}) {
		return nil, false
	}
	var cols []moduleColumn
	for _, e := range entries {
		tup, ok := e.(etf.Tuple)
		if !ok || len(tup) != 2 {
			fs.warn("module_with_opt dropped: malformed entry %s", etf.FormatLimit(e, 100))
			continue
		}
		mod, ok := ident(tup[0])
		if !ok {
			fs.warn("module_with_opt dropped: module name %s is not an identifier", etf.FormatLimit(tup[0], 60))
			continue
		}
		col := moduleColumn{mod: mod}
		res, _ := tup[1].(etf.Tuple)
		switch {
		case etf.IsAtom(tup[1], "none"):
			col.params = map[string]any{"module": mod}
		case len(res) == 2 && etf.IsAtom(res[0], "same"):
			// Every host answered the same: one params map for all.
			params := map[string]any{"module": mod}
			if moduleParams(fs, mod, etf.Tuple{etf.Atom("ok"), res[1]}, params) {
				col.params = params
			} else {
				col.skip = true
			}
		default:
			var per []etf.Term
			if len(res) == 2 && (etf.IsAtom(res[0], "all") || etf.IsAtom(res[0], "each")) {
				per, _ = etf.Elems(res[1])
			}
			if int64(len(per)) != hosts {
				fs.warn("module_with_opt for %s dropped: want options for %d hosts, got %s", mod, hosts, etf.FormatLimit(tup[1], 100))
				continue
			}
			if etf.IsAtom(res[0], "all") {
				for i := range per {
					per[i] = etf.Tuple{etf.Atom("ok"), per[i]}
				}
			}
			col.opts = per
		}
		cols = append(cols, col)
	}
	return cols, true
}

// pairModuleEvents reads the field name holding [{Module, {ok, Opts} |
// {error, Why}}], one event per entry in order (ejabberd: the modules
// loaded on each host).
func pairModuleEvents(fs fields, name string) []contract.Event {
	entries, ok := fs.list(name)
	if !ok {
		return nil
	}
	var out []contract.Event
	for _, e := range entries {
		tup, ok := e.(etf.Tuple)
		if !ok || len(tup) != 2 {
			fs.warn("module_with_opt dropped: malformed entry %s", etf.FormatLimit(e, 100))
			continue
		}
		mod, ok := ident(tup[0])
		if !ok {
			fs.warn("module_with_opt dropped: module name %s is not an identifier", etf.FormatLimit(tup[0], 60))
			continue
		}
		params := map[string]any{"module": mod}
		if moduleParams(fs, mod, tup[1], params) {
			out = append(out, contract.Event{Name: contract.ModuleWithOpt, Params: params})
		}
	}
	return out
}

// moduleParams adds one config_metrics/1 result, {ok, Opts} or
// {error, Why}, to params; false drops the event, with a warning.
func moduleParams(fs fields, mod string, res etf.Term, params map[string]any) bool {
	r, _ := res.(etf.Tuple)
	if len(r) != 2 || !etf.IsAtom(r[0], "ok") {
		fs.warn("module_with_opt for %s dropped: config_metrics failed: %s", mod, etf.FormatLimit(res, 200))
		return false
	}
	opts, ok := etf.Elems(r[1])
	if !ok {
		fs.warn("module_with_opt for %s dropped: config_metrics answered %s, want a list", mod, etf.FormatLimit(r[1], 100))
		return false
	}
	for _, o := range opts {
		kv, ok := o.(etf.Tuple)
		if !ok || len(kv) != 2 {
			fs.warn("module_with_opt for %s dropped: option %s is not a pair", mod, etf.FormatLimit(o, 100))
			return false
		}
		if etf.IsAtom(kv[0], "none") {
			continue
		}
		k, okK := ident(kv[0])
		v, okV := ident(kv[1])
		if !okK || !okV || k == "module" {
			fs.warn("module_with_opt for %s dropped: option %s is not an identifier pair", mod, etf.FormatLimit(o, 100))
			return false
		}
		params[k] = v
	}
	return true
}

// clusterEvent merges uptime, version, component count, node count and
// config type (configType of the config file's extension) into one event,
// as MongooseIM 6.1+ does. A param that cannot be read is left out
// (MongooseIM would lose the whole report).
func clusterEvent(fs fields, configType func(ext string) string) contract.Event {
	p := map[string]any{}
	if ms, ok := fs.count("uptime_ms"); ok {
		p["uptime"] = FormatUptime(ms)
	}
	if v, ok := fs.get("version"); ok {
		if s, ok := etf.Text(v); ok && versionValueRE.MatchString(s) {
			p["version"] = s
		} else {
			fs.warn("cluster version dropped: %s does not look like a version", etf.FormatLimit(v, 80))
		}
	}
	if n, ok := fs.count("component"); ok {
		p["component"] = n
	}
	if n, ok := fs.count("node_number"); ok {
		p["node_number"] = n
	}
	if v, ok := fs.get("config_path"); ok {
		ext, _ := etf.Text(v)
		p["config_type"] = configType(ext)
	}
	return contract.Event{Name: contract.Cluster, Params: p}
}

func mimConfigType(ext string) string {
	switch ext {
	case ".toml":
		return "toml"
	case ".cfg":
		return "cfg"
	}
	return "unknown_config_type"
}

func ejabberdConfigType(ext string) string {
	switch ext {
	case ".yml", ".yaml":
		return "yml"
	}
	return "unknown_config_type"
}

// flagEvent makes the single http_api or transport_mechanism event of
// MongooseIM 6.1+: one param per enabled item, possibly none.
func flagEvent(fs fields, name, field string) contract.Event {
	p := map[string]any{}
	items, _ := fs.list(field)
	for _, it := range items {
		if s, ok := ident(it); ok {
			p[s] = "enabled"
		}
	}
	return contract.Event{Name: name, Params: p}
}

func tlsEvents(fs fields) []contract.Event {
	items, _ := fs.list("tls_option")
	var out []contract.Event
	for _, it := range items {
		tup, ok := it.(etf.Tuple)
		if !ok || len(tup) != 2 {
			continue
		}
		mode, ok1 := ident(tup[0])
		mod, ok2 := ident(tup[1])
		if !ok1 || !ok2 {
			fs.warn("tls_option dropped: %s", etf.FormatLimit(it, 100))
			continue
		}
		out = append(out, contract.Event{Name: contract.TLSOption, Params: map[string]any{"mode": mode, "module": mod}})
	}
	return out
}

// eachValueEvents makes one event name per identifier in the list field
// (outgoing_pool: the type of each pool).
func eachValueEvents(fs fields, name, field string) []contract.Event {
	items, _ := fs.list(field)
	var out []contract.Event
	for _, it := range items {
		v, ok := ident(it)
		if !ok {
			fs.warn("%s dropped: %s is not an identifier", name, etf.FormatLimit(it, 60))
			continue
		}
		out = append(out, contract.Event{Name: name, Params: map[string]any{"value": v}})
	}
	return out
}

// stanzaCountEvents makes the six xmpp_stanza_count events with the
// increment against the node's previous report (the total itself on the
// first report; negative after a counter reset, as in MongooseIM).
func stanzaCountEvents(fs fields, prev StanzaTotals) ([]contract.Event, StanzaTotals) {
	v, ok := fs.get("stanzas")
	if !ok || etf.IsAtom(v, "none") {
		return nil, prev
	}
	items, ok := etf.Elems(v)
	if !ok {
		fs.warn("xmpp_stanza_count dropped: want a list, got %s", etf.FormatLimit(v, 100))
		return nil, prev
	}
	totals := StanzaTotals{}
	var out []contract.Event
	for _, it := range items {
		tup, ok := it.(etf.Tuple)
		if !ok || len(tup) != 2 {
			continue
		}
		typ, ok1 := ident(tup[0])
		total, ok2 := etf.Int(tup[1])
		if !ok1 || !ok2 {
			fs.warn("xmpp_stanza_count dropped: %s", etf.FormatLimit(it, 100))
			continue
		}
		inc := total
		if p, seen := prev[typ]; seen {
			inc = total - p
		}
		totals[typ] = total
		out = append(out, contract.Event{Name: contract.XMPPStanzaCount, Params: map[string]any{
			"stanza_type": typ, "total": total, "increment": inc}})
	}
	return out, totals
}
