package dashboard

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// adminData is the admin page: ingest health and the clusters.
type adminData struct {
	base
	LoginFailed bool
	Totals      []store.IngestCount
	Daily       []store.IngestCount
	Last        []lastReport
	Clusters    []adminCluster
	More        int
	// List is the paged cluster list (a store that pages it).
	List clusterList
	// Uncounted: per day and property, the clusters stored but not
	// counted (their address over the property's cap).
	Uncounted []uncountedDay
}

// adminCluster is a cluster of the admin list, with the days (of the
// period, within the raw retention) on which it was not counted.
type adminCluster struct {
	store.ClusterSummary
	NotCounted []string
}

type uncountedDay struct {
	Day      time.Time
	Property string
	Clusters int
}

type lastReport struct {
	Property string
	At       time.Time
}

// maxClustersListed bounds the admin page's cluster list.
const maxClustersListed = 500

func (d *dashboard) requireAdmin(w http.ResponseWriter, r *http.Request, f filter) bool {
	if d.token == "" {
		d.fail(w, r, http.StatusNotFound, "The admin view is off: start the receiver with --admin-token.")
		return false
	}
	if d.bearerGuessBlocked(w, r) {
		return false
	}
	if !d.isAdmin(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mim-metrics admin"`)
		d.render(w, r, http.StatusUnauthorized, "login", adminData{base: d.base(r, "Admin login", f, nil)})
		return false
	}
	return true
}

func (d *dashboard) admin(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query(), d.now())
	if err != nil {
		d.fail(w, r, http.StatusBadRequest, "Bad filter: "+err.Error())
		return
	}
	if !d.requireAdmin(w, r, f) {
		return
	}
	ctx, cancel := d.ctx(r)
	defer cancel()
	counts, err := d.st.IngestCounts(ctx, f.From, f.To)
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	last, err := d.st.LastReports(ctx)
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	lq := parseListQuery(r.URL.Query())
	lister, paged := d.st.(store.ClusterLister)
	var clusters []store.ClusterSummary
	var listed []store.ListedCluster
	var more bool
	if paged {
		listed, more, err = lister.ClusterPage(ctx, store.ClusterListQuery{Since: f.From, Prefix: lq.Prefix, Sort: lq.Sort,
			Ascending: lq.Ascending, Limit: clustersPerPage, Offset: lq.Page * clustersPerPage})
	} else {
		clusters, err = d.st.Clusters(ctx, f.From)
	}
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	uncounted, err := d.st.Uncounted(ctx, f.From, f.To)
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	data := adminData{base: d.base(r, "Admin", f, nil), Daily: counts}
	data.Status = lastReportLine(last)
	notCounted := map[[2]string][]string{}
	for _, u := range uncounted {
		k := [2]string{u.Property, u.ClientID}
		notCounted[k] = append(notCounted[k], dayKey(u.Day))
		if n := len(data.Uncounted); n > 0 && data.Uncounted[n-1].Day.Equal(u.Day) && data.Uncounted[n-1].Property == u.Property {
			data.Uncounted[n-1].Clusters++
		} else {
			data.Uncounted = append(data.Uncounted, uncountedDay{Day: u.Day, Property: u.Property, Clusters: 1})
		}
	}
	slices.SortStableFunc(data.Uncounted, func(a, b uncountedDay) int { return b.Day.Compare(a.Day) })
	type key struct{ p, n, r string }
	totals := map[key]int64{}
	var keys []key
	for _, c := range counts {
		k := key{c.Property, c.Name, c.Reason}
		if _, ok := totals[k]; !ok {
			keys = append(keys, k)
		}
		totals[k] += c.N
	}
	for _, k := range keys {
		data.Totals = append(data.Totals, store.IngestCount{Property: k.p, Name: k.n, Reason: k.r, N: totals[k]})
	}
	slices.SortFunc(data.Totals, func(a, b store.IngestCount) int {
		return strings.Compare(a.Property+"\x00"+a.Name+"\x00"+a.Reason, b.Property+"\x00"+b.Name+"\x00"+b.Reason)
	})
	slices.SortStableFunc(data.Daily, func(a, b store.IngestCount) int { return b.Day.Compare(a.Day) })
	for _, p := range sortedKeys(last) {
		data.Last = append(data.Last, lastReport{Property: p, At: last[p]})
	}
	if len(clusters) > maxClustersListed {
		data.More = len(clusters) - maxClustersListed
		clusters = clusters[:maxClustersListed]
	}
	for _, c := range clusters {
		data.Clusters = append(data.Clusters, adminCluster{ClusterSummary: c, NotCounted: notCounted[[2]string{c.Property, c.ClientID}]})
	}
	if paged {
		data.List = newClusterList(f, lq, listed, more, notCounted)
	}
	d.render(w, r, http.StatusOK, "admin", data)
}

// clusterData is one cluster's history.
type clusterData struct {
	base
	ClientID string
	Days     []historyDay
	Changes  []change
}

type historyDay struct {
	Day      time.Time
	Property string
	Versions []string
	Backends []string
	Other    []string
}

func (d *dashboard) cluster(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query(), d.now())
	if err != nil {
		d.fail(w, r, http.StatusBadRequest, "Bad filter: "+err.Error())
		return
	}
	if !d.requireAdmin(w, r, f) {
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" || len(id) > 200 {
		d.fail(w, r, http.StatusBadRequest, "Say which cluster: /admin/cluster?id=CLIENT_ID.")
		return
	}
	ctx, cancel := d.ctx(r)
	defer cancel()
	hist, err := d.st.ClusterHistory(ctx, id, f.From, f.To)
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	data := clusterData{base: d.base(r, "Cluster history", f, nil), ClientID: id, Changes: changeLog(hist)}
	data.Status = historyLine(hist)
	data.ClientIDParam = id
	for i := len(hist) - 1; i >= 0; i-- { // newest first
		cd := hist[i]
		h := historyDay{Day: cd.Day, Property: cd.Property}
		for _, fact := range cd.Facts {
			switch fact.Dimension {
			case facts.Version:
				h.Versions = append(h.Versions, fact.Value)
			case facts.ModuleBackend:
				h.Backends = append(h.Backends, fact.Value)
			case facts.Module:
				// the module_backend facts name every module
			default:
				s := fact.Dimension + "=" + fact.Value
				if fact.Amount != 0 {
					s += " (" + strconv.FormatInt(fact.Amount, 10) + ")"
				}
				h.Other = append(h.Other, s)
			}
		}
		slices.Sort(h.Versions)
		slices.Sort(h.Backends)
		slices.Sort(h.Other)
		data.Days = append(data.Days, h)
	}
	d.render(w, r, http.StatusOK, "cluster", data)
}
