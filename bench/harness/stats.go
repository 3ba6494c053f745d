package harness

import (
	"math"
	"slices"
)

// metric picks one figure of a run.
type metric func(r Run) float64

var (
	cpuPerMsg     metric = func(r Run) float64 { return r.Result.CPUPerMsgUs }
	msgsPerSec    metric = func(r Run) float64 { return r.Result.MsgsPerSec }
	p50           metric = func(r Run) float64 { return r.Result.P50Us }
	p99           metric = func(r Run) float64 { return r.Result.P99Us }
	rssPerConn    metric = func(r Run) float64 { return r.Result.RSSPerConn }
	lastDelivery  metric = func(r Run) float64 { return r.Result.LastDeliveryMs }
	cpuPerDeliver metric = func(r Run) float64 { return r.Result.CPUPerDeliveryUs }
)

// cell is the summary of one scenario on one server: the median of the
// successful runs, their range, and how many runs there were.
type cell struct {
	med, lo, hi float64
	n, failed   int
	err         string // the last error, when every run failed
}

func (c cell) ok() bool { return c.n > 0 }

// table indexes runs by scenario name and server.
type table map[string]map[string][]Run

func index(runs []Run) table {
	t := table{}
	for _, r := range runs {
		m := t[r.Scenario.Name]
		if m == nil {
			m = map[string][]Run{}
			t[r.Scenario.Name] = m
		}
		m[r.Server] = append(m[r.Server], r)
	}
	return t
}

func (t table) cell(scenario, server string, m metric) cell {
	var c cell
	var vals []float64
	for _, r := range t[scenario][server] {
		if r.Err != "" {
			c.failed++
			c.err = r.Err
			continue
		}
		vals = append(vals, m(r))
	}
	c.n = len(vals)
	if c.n == 0 {
		return c
	}
	slices.Sort(vals)
	c.lo, c.hi = vals[0], vals[len(vals)-1]
	if c.n%2 == 1 {
		c.med = vals[c.n/2]
	} else {
		c.med = (vals[c.n/2-1] + vals[c.n/2]) / 2
	}
	return c
}

// best is the lowest median among servers (NaN when none ran).
func (t table) best(scenario string, servers []string, m metric) (float64, string) {
	v, who := math.NaN(), ""
	for _, s := range servers {
		if c := t.cell(scenario, s, m); c.ok() && (math.IsNaN(v) || c.med < v) {
			v, who = c.med, s
		}
	}
	return v, who
}
