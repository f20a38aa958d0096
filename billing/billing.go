package billing

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// nanosPerUnit is the resolution of a Price: a billionth of the currency unit.
const nanosPerUnit = 1_000_000_000

// MaxPrice bounds a per-minute price (1,000 currency units a minute), so that
// no cost of a report can overflow.
const MaxPrice = 1000

// Price is a per-minute price in billionths of the currency unit.
type Price int64

// ErrPrice is wrapped by every error of ParsePrice.
var ErrPrice = errors.New("billing: invalid price")

// ParsePrice parses a decimal price per minute ("0.001", "3", "0.0035"):
// non-negative, at most MaxPrice, at most 9 decimals, no exponent.
func ParsePrice(s string) (Price, error) {
	t := strings.TrimSpace(s)
	if t == "" || strings.ContainsAny(t, "eE+_") || strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("%w: %q: want a non-negative decimal such as 0.001", ErrPrice, s)
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return 0, fmt.Errorf("%w: %q: want a non-negative decimal such as 0.001", ErrPrice, s)
	}
	if r.Cmp(big.NewRat(MaxPrice, 1)) > 0 {
		return 0, fmt.Errorf("%w: %q: at most %d a minute", ErrPrice, s, MaxPrice)
	}
	n := new(big.Rat).Mul(r, big.NewRat(nanosPerUnit, 1))
	if !n.IsInt() {
		return 0, fmt.Errorf("%w: %q: at most 9 decimals", ErrPrice, s)
	}
	return Price(n.Num().Int64()), nil
}

// MustPrice is ParsePrice for constants known to be valid; it returns 0 for
// an invalid one (no panic: tests catch a wrong constant).
func MustPrice(s string) Price {
	p, _ := ParsePrice(s)
	return p
}

// String writes the price as a decimal without trailing zeros.
func (p Price) String() string {
	s := new(big.Rat).SetFrac64(int64(p), nanosPerUnit).FloatString(9)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// Prices are the prices of a usage report.
type Prices struct {
	Audio, Video Price
	// Currency is an ISO 4217 code (USD), reported as given.
	Currency string
}

// Defaults are API.md's defaults: CometChat's published per-minute voice and
// video prices.
func Defaults() Prices {
	return Prices{Audio: MustPrice("0.001"), Video: MustPrice("0.003"), Currency: "USD"}
}

// EstimatedCost returns audio × Audio + video × Video (billable minutes),
// rounded half up to 6 decimals; exact until the rounding (integer
// arithmetic in billionths). Negative minutes count as 0.
func (p Prices) EstimatedCost(audioMinutes, videoMinutes int64) float64 {
	var total big.Int
	for _, t := range [...]struct {
		min   int64
		price Price
	}{{audioMinutes, p.Audio}, {videoMinutes, p.Video}} {
		if t.min > 0 {
			total.Add(&total, new(big.Int).Mul(big.NewInt(t.min), big.NewInt(int64(t.price))))
		}
	}
	// Round half up to millionths: (nanos + 500) / 1000.
	micros := new(big.Int).Quo(total.Add(&total, big.NewInt(500)), big.NewInt(1000))
	if !micros.IsInt64() {
		return math.Inf(1)
	}
	// A whole number of millionths divided by 1e6 is the float64 nearest to
	// the decimal, which JSON writes back as that decimal.
	return float64(micros.Int64()) / 1e6
}
