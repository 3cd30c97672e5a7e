package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/store/postgres"
	"github.com/vacationd/vacationd/transport"
)

// newRegistry returns the registry /metrics serves: the standard go_* and
// process_* collectors and vacationd_build_info; the service's own
// metrics are added by the packages that count them.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	v := buildVersion()
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "vacationd_build_info",
		Help: "Always 1; the labels identify the running binary, as vacationd version does.",
	}, []string{"version", "commit", "goversion"})
	info.WithLabelValues(v.Version, v.Commit, v.GoVersion).Set(1)
	reg.MustRegister(info)
	return reg
}

// registerServiceMetrics publishes the counters the LMTP server and the
// store keep themselves, read at scrape time.
func registerServiceMetrics(reg prometheus.Registerer, srv *transport.Server, db store.State) {
	counter := func(name, help string, f func() uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) }))
	}
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	counter("vacationd_lmtp_connections_total", "LMTP connections accepted.", func() uint64 { return srv.Stats().Accepted })
	counter("vacationd_lmtp_connections_refused_total", "LMTP connections refused because --max-conns were open.", func() uint64 { return srv.Stats().Busy })
	counter("vacationd_lmtp_connections_refused_per_ip_total", "LMTP connections refused because --max-conns-per-ip were open from their address.", func() uint64 { return srv.Stats().BusyPerIP })
	counter("vacationd_lmtp_over_budget_total", "MAIL FROMs and messages answered 452 because --max-inflight-bytes were in flight.", func() uint64 { return srv.Stats().OverBudget })
	gauge("vacationd_lmtp_inflight_bytes", "Message bytes held in memory by LMTP sessions now.", func() float64 { return float64(srv.Stats().InflightBytes) })
	gauge("vacationd_lmtp_connections_active", "LMTP connections open now.", func() float64 { return float64(srv.Stats().Active) })
	counter("vacationd_lmtp_messages_total", "LMTP messages received.", func() uint64 { return srv.Stats().Messages })
	reg.MustRegister(&labelledCounterFunc{
		desc: prometheus.NewDesc("vacationd_proxy_rejected_total", "Connections closed during PROXY header processing, by cause.", []string{"cause"}, nil),
		f: func() map[string]uint64 {
			out := map[string]uint64{}
			for c, n := range srv.Stats().ProxyRejected {
				out[c] = n
			}
			return out
		},
	})
	gauge("vacationd_outbox_depth", "Messages waiting in the outbox.", func() float64 {
		n, _, _ := db.OutboxStats(time.Now())
		return float64(n)
	})
	gauge("vacationd_outbox_oldest_seconds", "Age of the oldest outbox message.", func() float64 {
		_, age, _ := db.OutboxStats(time.Now())
		return age.Seconds()
	})
	if cf, ok := db.(interface{ CommitFailures() uint64 }); ok { // bbolt and PostgreSQL
		counter("vacationd_store_commit_failures_total", "Store writes that failed to commit (full disk, I/O error, database down).", cf.CommitFailures)
	}
	if pg, ok := db.(*postgres.DB); ok {
		gauge("vacationd_postgres_connections_acquired", "PostgreSQL connections in use.", func() float64 { return float64(pg.PoolStats().Acquired) })
		gauge("vacationd_postgres_connections_idle", "PostgreSQL connections idle in the pool.", func() float64 { return float64(pg.PoolStats().Idle) })
		gauge("vacationd_postgres_connections_max", "Size of the PostgreSQL connection pool (pool_max_conns).", func() float64 { return float64(pg.PoolStats().Max) })
		counter("vacationd_postgres_acquire_waits_total", "Database calls that waited for a free PostgreSQL connection: a pool too small for the load.",
			func() uint64 { return uint64(pg.PoolStats().EmptyAcquires) })
	}
	bolt, ok := db.(*store.DB)
	if !ok {
		return
	}
	counter("vacationd_store_transactions_total", "Store write transactions committed (one fsync each).", func() uint64 { return bolt.WriterStats().Transactions })
	counter("vacationd_store_writes_total", "Store writes committed; writes/transactions is the group commit factor.", func() uint64 { return bolt.WriterStats().Writes })
}

// labelledCounterFunc is a counter with one label whose values are read
// at scrape time.
type labelledCounterFunc struct {
	desc *prometheus.Desc
	f    func() map[string]uint64
}

func (c *labelledCounterFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *labelledCounterFunc) Collect(ch chan<- prometheus.Metric) {
	for v, n := range c.f() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), v)
	}
}
