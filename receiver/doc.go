// Package receiver is the HTTP ingest of mim-metrics-receiver: it speaks
// the protocols the sidecar and MongooseIM already send (GA4 Measurement
// Protocol, Universal Analytics hits, system_metrics_report.json files),
// validates what it gets as strictly as the sidecar builds it, and stores
// it through store.Store.
package receiver
