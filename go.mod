module github.com/mim-metrics/mim-metrics

go 1.26.8

require (
	github.com/ergo-services/ergo v1.999.224
	github.com/google/uuid v1.6.0
	go.uber.org/zap v1.28.0
	gopkg.in/yaml.v3 v3.0.1
)

require go.uber.org/multierr v1.10.0 // indirect
