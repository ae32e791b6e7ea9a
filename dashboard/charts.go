package dashboard

import (
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// ChartDef declares one chart: everything the dashboard needs to count it,
// draw it on its page, serve it at /api/v1/{ID}.json (.csv, .svg) and
// explain it on /methodology. A chart is one declaration: the built-in
// ones are the list below; Options.Charts adds more.
type ChartDef struct {
	// ID names the chart in its API's URL and its page's anchor.
	ID string
	// Page is the page that draws it, after the page's built-in charts.
	Page  Page
	Title string
	// About says in a sentence what is counted (drawn under the title).
	About string
	// Dimension is the facts dimension counted (facts.Module...), or a
	// dimension of the store's runs and roll-ups that facts has no spec of
	// yet (a new metric's: each value counted, see package census).
	Dimension string
	// Kind is what the numbers are: Shares, Weekly, Daily or Sums.
	Kind Kind
	// Known lists the values drawn (as 0) even when no cluster reported
	// them, in their order; nil: a bucketed dimension's buckets.
	Known []string
	// Empty, when set, is shown instead of the chart when no cluster of
	// the period reported the dimension.
	Empty template.HTML
	// Unit, when set, says what the numbers are instead of the kind's
	// words.
	Unit string
	// Partition: the values (with "not reported") add up to the clusters,
	// or nearly so (a cluster from two countries), so the public view
	// withholds more of a table. A bucketed dimension always is.
	Partition bool
	// OfActive: shares of every active cluster, not of those that could
	// report the dimension (every version reports it).
	OfActive bool

	// link is where a row of its table leads (a module's page, a feature
	// value's); nil: nowhere.
	link func(rk rowKey, query string) string
	// drill fills a drill-down page's chart (module.go, feature.go).
	drill func(m *drillInput, c *Chart, s store.Kind)
}

// Page is one page of charts, named by its path.
type Page string

// The pages of charts.
const (
	ModulesPage   Page = "/"
	ClustersPage  Page = "/clusters"
	ShapePage     Page = "/shape"
	FeaturesPage  Page = "/features"
	TrafficPage   Page = "/traffic"
	GeographyPage Page = "/geography"
)

// pageDef is one page: its title, and its charts (those that name it).
type pageDef struct {
	Path   string
	Title  string
	Charts []ChartDef
}

type pageTitle struct {
	Page  Page
	Title string
}

// pageTitles names the pages, in the order of the menu.
var pageTitles = []pageTitle{
	{ModulesPage, "Modules"},
	{ClustersPage, "Clusters"},
	{ShapePage, "Cluster shape"},
	{FeaturesPage, "Features"},
	{TrafficPage, "Traffic"},
	{GeographyPage, "Geography"},
}

// The built-in charts, in the order their pages draw them.
var builtinCharts = []ChartDef{
	{ID: "backends", Page: ModulesPage, Title: "Backends per module", Dimension: facts.ModuleBackend, Kind: backendShares, link: linkModuleOfGroup,
		About: "Per module, the clusters that reported each backend, as a share of the clusters that run the module; a cluster with two backends counts under both. A known backend nobody reported is shown as 0."},
	{ID: "modules", Page: ModulesPage, Title: "Modules", Dimension: facts.Module, Kind: Shares, OfActive: true, link: linkModule,
		About: "The clusters that run each module, as a share of the active clusters."},
	{ID: "active", Page: ClustersPage, Title: "Active clusters per day", Dimension: facts.Clusters, Kind: activeDaily,
		Known: []string{facts.ClustersNew, facts.ClustersReturning},
		About: "Distinct clusters that reported each day: new (first seen that day) and returning; together, the day's active clusters."},
	{ID: "versions", Page: ClustersPage, Title: "Version adoption", Dimension: facts.Version, Kind: adoptionWeekly,
		About: "Per ISO week, the clusters that ran each release line (6.5 is 6.5.0, 6.5.1, …) and each version, as a share of the week's active clusters; a cluster upgraded during the week counts under both versions (the stack is then scaled to 100 %). Each line keeps its colour whatever the period."},
	{ID: "support", Page: ClustersPage, Title: "Clusters on a supported or an older line", Dimension: supportDimension, Kind: supportWeekly,
		Known: []string{supportedLabel, olderLabel},
		About: "Per ISO week, the clusters that ran a version of a supported release line (the newest two lines that at least K clusters ran in the period, named in the unit), and those that ran any other version, as a share of the week's active clusters; a cluster that upgraded during the week counts under both."},
	{ID: "nodes", Page: ShapePage, Title: "Nodes per cluster", Dimension: facts.NodeNumber, Kind: Shares},
	{ID: "hosts", Page: ShapePage, Title: "Hosts (host types) per cluster", Dimension: facts.Hosts, Kind: Shares},
	{ID: "domains", Page: ShapePage, Title: "Domains per cluster", Dimension: facts.Domains, Kind: Shares},
	{ID: "config-type", Page: ShapePage, Title: "Configuration file type", Dimension: facts.ConfigType, Kind: Shares},
	{ID: "custom-modules", Page: ShapePage, Title: "Clusters with custom modules", Dimension: facts.CustomModules, Kind: Shares},
	{ID: "components", Page: ShapePage, Title: "External components per cluster", Dimension: facts.Components, Kind: Shares},
	{ID: "transports", Page: FeaturesPage, Title: "Transports", Dimension: facts.Transport, Kind: Shares, link: transportFeature.link,
		Known: []string{"tcp", "mod_bosh", "mod_websockets", "mongoose_bosh_handler", "mongoose_websocket_handler"}},
	{ID: "http-apis", Page: FeaturesPage, Title: "HTTP APIs", Dimension: facts.HTTPAPI, Kind: Shares, link: httpAPIFeature.link},
	{ID: "tls", Page: FeaturesPage, Title: "TLS mode / library", Dimension: facts.TLS, Kind: Shares, link: tlsFeature.link,
		Known: []string{"starttls/fast_tls", "starttls/just_tls", "starttls_required/fast_tls", "starttls_required/just_tls",
			"tls/fast_tls", "tls/just_tls"}},
	{ID: "pools", Page: FeaturesPage, Title: "Outgoing pool types", Dimension: facts.Pool, Kind: Shares, link: poolFeature.link,
		Known: []string{"rdbms", "http", "redis", "rabbit", "cassandra", "elastic", "ldap"}},
	{ID: "stanzas", Page: TrafficPage, Title: "Stanzas per day", Dimension: facts.Stanza, Kind: Sums,
		Known: []string{"xmppMessageSent", "xmppMessageReceived", "xmppIqSent", "xmppIqReceived", "xmppPresenceSent", "xmppPresenceReceived"},
		About: "Sum over clusters of the stanza counters' increments reported each day, per stanza type."},
	{ID: "stanza-volume", Page: TrafficPage, Title: "Traffic per cluster", Dimension: facts.StanzaVolume, Kind: Shares,
		About: "Clusters by the stanzas they counted on their busiest day of the period (all types and nodes summed)."},
	{ID: "countries", Page: GeographyPage, Title: "Clusters per country", Dimension: facts.Country, Kind: Shares, Partition: true,
		Empty: "No country data: the receiver keeps a sender's country only when started with <code>--geoip-db FILE</code>.",
		About: "Clusters per country of the sender (when the receiver has a GeoIP database); a cluster whose nodes report from two countries counts under both."},
}

// known lists the values drawn even when no cluster reported them: the
// declared ones, or a bucketed dimension's buckets.
func (def ChartDef) known() []string {
	if def.Known != nil {
		return def.Known
	}
	if spec, ok := facts.SpecOf(def.Dimension); ok && spec.Combine == facts.LargestValue {
		return spec.Values
	}
	return nil
}

// partition says whether the chart's values (with "not reported") add up
// to its clusters: one value per cluster, or nearly so. The public view
// withholds more of such a table.
func (def ChartDef) partition() bool {
	if def.Partition || def.Kind.partition() {
		return true
	}
	spec, ok := facts.SpecOf(def.Dimension)
	return ok && spec.Combine == facts.LargestValue
}

// unit says what the chart's numbers are.
func (def ChartDef) unit() string {
	if def.Unit != "" {
		return def.Unit
	}
	return def.Kind.unit()
}

// knownOfDimension lists the known values of a dimension as its first
// chart declares them (a feature page's value is known before any report).
func knownOfDimension(defs []ChartDef, dim string) []string {
	i := slices.IndexFunc(defs, func(c ChartDef) bool { return c.Dimension == dim })
	if i < 0 {
		return nil
	}
	return defs[i].known()
}

// findChart finds the chart of id among defs (an id from a URL).
func findChart(defs []ChartDef, id string) (ChartDef, bool) {
	i := slices.IndexFunc(defs, func(c ChartDef) bool { return c.ID == id })
	if i < 0 {
		return ChartDef{}, false
	}
	return defs[i], true
}

// allCharts is the built-in charts and the extra ones, each checked.
func allCharts(extra []ChartDef) ([]ChartDef, error) {
	all := slices.Concat(builtinCharts, extra)
	ids := map[string]bool{}
	for _, def := range all {
		switch {
		case def.ID == "" || def.Title == "" || def.Dimension == "" || def.Kind == nil:
			return nil, fmt.Errorf("chart %q: a chart declares its ID, Title, Dimension and Kind", def.ID)
		case strings.Trim(def.ID, "abcdefghijklmnopqrstuvwxyz0123456789-") != "":
			return nil, fmt.Errorf("chart %q: an ID is of lower-case letters, digits and '-' (it is a URL's)", def.ID)
		case ids[def.ID] || isDrillChart(def.ID):
			return nil, fmt.Errorf("chart %q: that ID is taken", def.ID)
		case !slices.ContainsFunc(pageTitles, func(p pageTitle) bool { return p.Page == def.Page }):
			return nil, fmt.Errorf("chart %q: no page %q (dashboard.ModulesPage, ClustersPage, ...)", def.ID, def.Page)
		case def.drill != nil:
			return nil, fmt.Errorf("chart %q: a drill-down page's chart is not a page's", def.ID)
		}
		ids[def.ID] = true
	}
	return all, nil
}

// pagesOf lists the pages, each with the charts that name it, in their
// order.
func pagesOf(defs []ChartDef) []pageDef {
	var out []pageDef
	for _, p := range pageTitles {
		pg := pageDef{Path: string(p.Page), Title: p.Title}
		for _, def := range defs {
			if def.Page == p.Page {
				pg.Charts = append(pg.Charts, def)
			}
		}
		out = append(out, pg)
	}
	return out
}
