package billing

import (
	"errors"
	"testing"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in   string
		want Price
		ok   bool
	}{
		{"0.001", 1_000_000, true},
		{"0.003", 3_000_000, true},
		{"3", 3_000_000_000, true},
		{" 0.0035 ", 3_500_000, true},
		{"0", 0, true},
		{"0.000000001", 1, true},
		{"1000", 1000 * nanosPerUnit, true},
		{"0.0000000001", 0, false}, // 10 decimals
		{"1000.000000001", 0, false},
		{"-0.001", 0, false},
		{"1e-3", 0, false},
		{"+1", 0, false},
		{"", 0, false},
		{"abc", 0, false},
		{"1/3", 0, false},
		{"NaN", 0, false},
	}
	for _, tc := range tests {
		got, err := ParsePrice(tc.in)
		if tc.ok != (err == nil) || (tc.ok && got != tc.want) {
			t.Errorf("ParsePrice(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrPrice) {
			t.Errorf("ParsePrice(%q): %v does not wrap ErrPrice", tc.in, err)
		}
	}
}

func TestEstimatedCost(t *testing.T) {
	d := Defaults()
	tests := []struct {
		name         string
		p            Prices
		audio, video int64
		want         float64
	}{
		{"defaults", d, 3, 2, 0.009},
		{"nothing", d, 0, 0, 0},
		{"negative minutes count 0", d, -5, 1, 0.003},
		{"binary-unfriendly sum is exact", Prices{Audio: MustPrice("0.1"), Video: MustPrice("0.2")}, 1, 1, 0.3},
		{"rounds half up at 6 decimals", Prices{Audio: MustPrice("0.0000005")}, 1, 0, 0.000001},
		{"rounds down below half", Prices{Audio: MustPrice("0.000000499")}, 1, 0, 0},
		{"large", d, 1_000_000_000, 1_000_000_000, 4_000_000},
	}
	for _, tc := range tests {
		if got := tc.p.EstimatedCost(tc.audio, tc.video); got != tc.want {
			t.Errorf("%s: EstimatedCost(%d, %d) = %v, want %v", tc.name, tc.audio, tc.video, got, tc.want)
		}
	}
}

func TestPriceString(t *testing.T) {
	for in, want := range map[string]string{"0.001": "0.001", "3": "3", "0": "0", "0.0035": "0.0035"} {
		if got := MustPrice(in).String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
