module github.com/mim-metrics/mim-metrics

go 1.26.8

require (
	github.com/ergo-services/ergo v1.999.224 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
)
