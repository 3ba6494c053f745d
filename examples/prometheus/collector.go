// Package lwsprom exports the counters of an lws Service (Service.Stats) to
// Prometheus. It is a module of its own, so the lws module does not
// depend on the Prometheus client:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(lwsprom.NewCollector(svc, nil))
//	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every scrape takes one snapshot (Service.Stats), which never waits for
// the service's loops.
package lwsprom

import (
	"strconv"

	"github.com/lws-go/lws"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector of one service's Stats.
type Collector struct {
	svc                                    *lws.Service
	connections, connectionsTotal          *prometheus.Desc
	messagesReceived, bytesReceived        *prometheus.Desc
	messagesSent, bytesSent                *prometheus.Desc
	messagesQueued, messagesDropped, close *prometheus.Desc
	broadcastsRefused                      *prometheus.Desc
}

// NewCollector collects svc's Stats as metrics named lws_..., with the
// given constant labels (nil for none; a label naming the service tells
// several apart).
func NewCollector(svc *lws.Service, labels prometheus.Labels) *Collector {
	desc := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc("lws_"+name, help, variable, labels)
	}
	return &Collector{
		svc:               svc,
		connections:       desc("connections", "WebSocket connections open now."),
		connectionsTotal:  desc("connections_total", "WebSocket connections established."),
		messagesReceived:  desc("messages_received_total", "Data messages received."),
		bytesReceived:     desc("received_bytes_total", "Payload bytes of the data messages received."),
		messagesSent:      desc("messages_sent_total", "Data messages sent."),
		bytesSent:         desc("sent_bytes_total", "Payload bytes of the data messages sent."),
		messagesQueued:    desc("messages_queued_total", "Messages Send and Broadcast queued on connections."),
		messagesDropped:   desc("messages_dropped_total", "Messages refused by full send queues."),
		close:             desc("closes_total", "WebSocket connections gone, by close code.", "code"),
		broadcastsRefused: desc("broadcasts_refused_total", "Broadcast calls refused because the loops had a backlog."),
	}
}

// Describe sends the descriptors of every metric of the collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.connections, c.connectionsTotal, c.messagesReceived, c.bytesReceived,
		c.messagesSent, c.bytesSent, c.messagesQueued, c.messagesDropped, c.close, c.broadcastsRefused} {
		ch <- d
	}
}

// Collect sends the metrics of one Stats snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.svc.Stats()
	ch <- prometheus.MustNewConstMetric(c.connections, prometheus.GaugeValue, float64(st.Connections))
	counter := func(d *prometheus.Desc, v uint64, label ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label...)
	}
	counter(c.connectionsTotal, st.ConnectionsTotal)
	counter(c.messagesReceived, st.MessagesReceived)
	counter(c.bytesReceived, st.BytesReceived)
	counter(c.messagesSent, st.MessagesSent)
	counter(c.bytesSent, st.BytesSent)
	counter(c.messagesQueued, st.Queued)
	counter(c.messagesDropped, st.Dropped)
	counter(c.broadcastsRefused, st.BroadcastsRefused)
	for code, n := range st.Closes {
		counter(c.close, n, strconv.Itoa(int(code)))
	}
}
