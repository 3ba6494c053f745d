package harness

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// palette colours the servers: ours warm, peers cool, floors grey.
var palette = map[string]string{
	"lws": "#d62728", "lws-2loops": "#ff9896",
	"gorilla": "#1f77b4", "coder": "#17becf", "gobwas": "#2ca02c", "nbio": "#9467bd", "gws": "#8c564b", CServer: "#e377c2",
	"raw-goroutine": "#bbbbbb", "raw-epoll": "#555555",
}

func colour(server string) string {
	if c, ok := palette[server]; ok {
		return c
	}
	return "#999999"
}

// panel is one chart: groups of horizontal bars on a log scale.
type panel struct {
	title string
	unit  string
	rows  []string // group labels
	value func(row, server string) float64
}

const (
	chartWidth = 960
	labelWidth = 250
	barH       = 8
	groupGap   = 12
	panelTop   = 46 // title and axis labels
)

// Chart draws the echo CPU, idle memory and broadcast panels as one SVG.
func (r *Report) Chart() []byte {
	t := index(r.Runs)
	var panels []panel
	add := func(mode, title, unit string, m metric) {
		var rows []string
		for _, sc := range r.Cfg.Scenarios {
			if sc.Mode == mode {
				rows = append(rows, sc.Name)
			}
		}
		if len(rows) > 0 {
			panels = append(panels, panel{title: title, unit: unit, rows: rows, value: func(row, s string) float64 {
				if c := t.cell(row, s, m); c.ok() {
					return c.med
				}
				return math.NaN()
			}})
		}
	}
	add("echo", "Server CPU per echoed message (us, log scale, lower is better)", "us", cpuPerMsg)
	add("idle", "Server RSS per idle connection (bytes, log scale, lower is better)", "B", rssPerConn)
	add("broadcast", "Broadcast: server CPU per delivered message (us, log scale)", "us", cpuPerDeliver)

	servers := r.Cfg.Servers
	var b strings.Builder
	y := 40 // below the legend
	var body strings.Builder
	for _, p := range panels {
		y = p.draw(&body, servers, y)
	}
	height := y + 10
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	// legend
	x := 10
	for _, s := range servers {
		fmt.Fprintf(&b, `<rect x="%d" y="12" width="12" height="12" fill="%s"/><text x="%d" y="22">%s</text>`+"\n", x, colour(s), x+16, html.EscapeString(s))
		x += 22 + 7*len(s) + 10
	}
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// draw renders the panel from y and returns the y after it.
func (p panel) draw(b *strings.Builder, servers []string, y int) int {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range p.rows {
		for _, s := range servers {
			if v := p.value(row, s); v > 0 && !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return y
	}
	// decades spanning the data
	d0, d1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if d1 <= d0 {
		d1 = d0 + 1
	}
	plotW := float64(chartWidth - labelWidth - 80)
	xOf := func(v float64) float64 {
		return float64(labelWidth) + (math.Log10(v)-d0)/(d1-d0)*plotW
	}
	fmt.Fprintf(b, `<text x="10" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", y+18, html.EscapeString(p.title))
	top := y + panelTop
	groupH := len(servers)*barH + groupGap
	bottom := top + len(p.rows)*groupH
	for d := d0; d <= d1; d++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, d)
			if d == d1 && m > 1 {
				break
			}
			x := xOf(v)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e0e0e0"/>`+"\n", x, top-4, x, bottom)
			fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#666">%s</text>`+"\n", x, top-8, trimNum(v))
		}
	}
	for i, row := range p.rows {
		gy := top + i*groupH
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelWidth-8, gy+len(servers)*barH/2+4, html.EscapeString(row))
		for j, s := range servers {
			v := p.value(row, s)
			if math.IsNaN(v) || v <= 0 {
				continue
			}
			by := gy + j*barH
			w := math.Max(1, xOf(v)-float64(labelWidth))
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s %s</title></rect>`+"\n",
				labelWidth, by, w, barH-1, colour(s), html.EscapeString(s), f2(v), p.unit)
			fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="8" fill="#333">%s</text>`+"\n", float64(labelWidth)+w+3, by+barH-1, f2(v))
		}
	}
	return bottom + 10
}

func trimNum(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%gk", v/1000)
	}
	return fmt.Sprintf("%g", v)
}
