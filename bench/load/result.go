package load

// Result is what one run measured. Fields that do not apply to the mode
// are zero.
type Result struct {
	Mode     string `json:"mode"`
	Proto    Proto  `json:"proto"`
	Conns    int    `json:"conns"`
	Size     int    `json:"size"`
	InFlight int    `json:"inflight,omitempty"`

	// echo
	Seconds     float64 `json:"seconds,omitempty"`      // measured window
	Messages    int64   `json:"messages,omitempty"`     // echoed in the window
	MsgsPerSec  float64 `json:"msgs_per_sec,omitempty"` // Messages / Seconds
	ServerCPU   float64 `json:"server_cpu_s,omitempty"` // server CPU seconds in the window
	CPUPerMsgUs float64 `json:"cpu_per_msg_us,omitempty"`
	P50Us       float64 `json:"p50_us,omitempty"` // round-trip latency
	P99Us       float64 `json:"p99_us,omitempty"`

	// idle
	RSSBefore  int64   `json:"rss_before,omitempty"`
	RSSAfter   int64   `json:"rss_after,omitempty"`
	RSSPerConn float64 `json:"rss_per_conn,omitempty"`
	Threads    int64   `json:"threads,omitempty"` // server threads after
	Alive      int     `json:"alive,omitempty"`   // connections still open at the end

	// broadcast
	Rounds            int     `json:"rounds,omitempty"`
	LastDeliveryMs    float64 `json:"last_delivery_ms,omitempty"` // median over rounds
	LastDeliveryMaxMs float64 `json:"last_delivery_max_ms,omitempty"`
	CPUPerDeliveryUs  float64 `json:"cpu_per_delivery_us,omitempty"`

	// Errors counts connections that failed during the run.
	Errors int `json:"errors,omitempty"`
}
