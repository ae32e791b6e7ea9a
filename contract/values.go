package contract

import (
	"encoding/json"
	"math"
)

// Int reads a number param's value as the catalog's integer: an int64 (as
// Check and the sidecar give it), an int, or a JSON number (json.Number
// or float64) that is a whole number; 1.5 is no integer, and nothing is
// truncated.
func Int(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<62 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// Text reads a string param's value: a non-empty string.
func Text(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok && s != ""
}
