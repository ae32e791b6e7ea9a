package facts

import "math"

// AddAmounts is a + b, held at the int64 limits instead of wrapping: no
// sender's numbers can turn a sum negative.
func AddAmounts(a, b int64) int64 {
	switch {
	case b > 0 && a > math.MaxInt64-b:
		return math.MaxInt64
	case b < 0 && a < math.MinInt64-b:
		return math.MinInt64
	}
	return a + b
}
