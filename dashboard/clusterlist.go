package dashboard

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// The admin view's cluster list, paged in SQL (store.ClusterLister):
// searchable by client id prefix, sorted by last seen, first seen,
// version, nodes, hosts, kind or id, 50 a page; and a cluster's page, led by its change log.

const clustersPerPage = 50

// listQuery is the cluster list's part of the admin page's URL.
type listQuery struct {
	Prefix    string
	Sort      store.ClusterSort
	Ascending bool
	Page      int
}

var listSorts = []struct {
	Sort store.ClusterSort
	Text string
}{{store.SortLastSeen, "last seen"}, {store.SortFirstSeen, "first seen"}, {store.SortVersion, "version"}, {store.SortNodes, "nodes"},
	{store.SortHosts, "hosts"}, {store.SortKind, "kind"}, {store.SortClientID, "client id"}}

func parseListQuery(q url.Values) listQuery {
	l := listQuery{Sort: store.SortLastSeen, Prefix: strings.TrimSpace(truncate(q.Get("q"), 100))}
	for _, s := range listSorts {
		if string(s.Sort) == q.Get("sort") {
			l.Sort = s.Sort
		}
	}
	l.Ascending = q.Get("order") == "asc"
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 1_000_000 {
		l.Page = n - 1
	}
	return l
}

// values gives the list query as URL parameters.
func (l listQuery) values() url.Values {
	v := url.Values{}
	if l.Prefix != "" {
		v.Set("q", l.Prefix)
	}
	v.Set("sort", string(l.Sort))
	if l.Ascending {
		v.Set("order", "asc")
	}
	if l.Page > 0 {
		v.Set("page", strconv.Itoa(l.Page+1))
	}
	return v
}

// listLink is the admin page's URL with the filter f and the list query.
func listLink(f filter, l listQuery) string {
	v := f.values()
	for k, vs := range l.values() {
		v[k] = vs
	}
	return "/admin?" + v.Encode()
}

// clusterList is what the admin page shows of the list.
type clusterList struct {
	Query      listQuery
	Rows       []listedRow
	Sorts      []sortLink
	Prev, Next string
	PageNumber int
	// Paged: the store pages the list (else the first clusters only).
	Paged bool
}

type listedRow struct {
	store.ListedCluster
	Link       string
	NotCounted []string
}

type sortLink struct {
	Text, Link string
	Current    bool
	Ascending  bool
}

func newClusterList(f filter, l listQuery, rows []store.ListedCluster, more bool, notCounted map[[2]string][]string) clusterList {
	cl := clusterList{Query: l, PageNumber: l.Page + 1, Paged: true}
	q := f.values().Encode()
	for _, r := range rows {
		cl.Rows = append(cl.Rows, listedRow{ListedCluster: r, NotCounted: notCounted[[2]string{r.Property, r.ClientID}],
			Link: "/admin/cluster?id=" + url.QueryEscape(r.ClientID) + "&" + q})
	}
	for _, s := range listSorts {
		next := listQuery{Prefix: l.Prefix, Sort: s.Sort}
		if s.Sort == l.Sort {
			next.Ascending = !l.Ascending
		} else {
			next.Ascending = s.Sort == store.SortClientID || s.Sort == store.SortKind
		}
		cl.Sorts = append(cl.Sorts, sortLink{Text: s.Text, Link: listLink(f, next), Current: s.Sort == l.Sort, Ascending: l.Ascending})
	}
	if l.Page > 0 {
		prev := l
		prev.Page--
		cl.Prev = listLink(f, prev)
	}
	if more {
		next := l
		next.Page++
		cl.Next = listLink(f, next)
	}
	return cl
}

// change is one entry of a cluster's change log.
type change struct {
	Day  time.Time
	What string
	Text string
}

// changeLog lists what changed from one day of a cluster's history to the
// next reported one (oldest first in, newest first out): version upgrades,
// modules enabled or removed, backend changes, node counts.
func changeLog(hist []store.ClusterDay) []change {
	var out []change
	var prev map[string][]string
	for _, day := range hist {
		cur := map[string][]string{}
		for _, f := range day.Facts {
			switch f.Dimension {
			case facts.Version, facts.Module, facts.ModuleBackend, facts.NodeNumber:
				if !slices.Contains(cur[f.Dimension], f.Value) {
					cur[f.Dimension] = append(cur[f.Dimension], f.Value)
				}
			}
		}
		for _, vs := range cur {
			slices.Sort(vs)
		}
		if prev == nil {
			prev = cur
			continue
		}
		add := func(what, text string) { out = append(out, change{Day: day.Day, What: what, Text: text}) }
		if old, now := prev[facts.Version], cur[facts.Version]; len(now) > 0 && !slices.Equal(old, now) {
			add("version", strings.Join(old, ", ")+" → "+strings.Join(now, ", "))
		}
		if old, now := prev[facts.NodeNumber], cur[facts.NodeNumber]; len(now) > 0 && !slices.Equal(old, now) {
			add("nodes", strings.Join(old, ", ")+" → "+strings.Join(now, ", "))
		}
		oldMods, newMods := prev[facts.Module], cur[facts.Module]
		if len(newMods) > 0 {
			for _, m := range newMods {
				if !slices.Contains(oldMods, m) {
					add("module enabled", m)
				}
			}
			for _, m := range oldMods {
				if !slices.Contains(newMods, m) {
					add("module removed", m)
				}
			}
		}
		oldBe, newBe := backendsByModule(prev[facts.ModuleBackend]), backendsByModule(cur[facts.ModuleBackend])
		for _, m := range sortedKeys(newBe) {
			if old, ok := oldBe[m]; ok && !slices.Equal(old, newBe[m]) {
				now := newBe[m]
				add("backend", m+": "+strings.Join(old, ", ")+" → "+strings.Join(now, ", "))
			}
		}
		prev = cur
	}
	slices.SortStableFunc(out, func(a, b change) int { return b.Day.Compare(a.Day) })
	return out
}

func backendsByModule(values []string) map[string][]string {
	out := map[string][]string{}
	for _, v := range values {
		m, be := splitGroup(v)
		out[m] = append(out[m], be)
	}
	for _, bes := range out {
		slices.Sort(bes)
	}
	return out
}
