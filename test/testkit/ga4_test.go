package testkit

import (
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
)

// The sender keeps to the limit the receiver holds a request to.
func TestGA4Limit(t *testing.T) {
	if maxGA4Events != contract.MaxGA4Events {
		t.Errorf("maxGA4Events = %d, contract.MaxGA4Events = %d", maxGA4Events, contract.MaxGA4Events)
	}
}
