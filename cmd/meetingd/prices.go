package main

import (
	"fmt"

	"github.com/meetingd/meetingd/billing"
)

// priceSettings are the usage report's prices (API.md's configuration).
func priceSettings() []setting {
	d := billing.Defaults()
	return []setting{
		{"MEETINGD_PRICE_AUDIO_PER_MINUTE", "price-audio-per-minute", d.Audio.String(), "price of a billable audio minute, for the usage report's estimated_cost (a decimal, at most 9 decimals)", false},
		{"MEETINGD_PRICE_VIDEO_PER_MINUTE", "price-video-per-minute", d.Video.String(), "price of a billable video minute, for the usage report's estimated_cost (a decimal, at most 9 decimals)", false},
		{"MEETINGD_PRICE_CURRENCY", "price-currency", d.Currency, "ISO 4217 currency code of the prices (three capital letters)", false},
	}
}

// loadPrices reads the prices into cfg.prices, naming every invalid one.
func loadPrices(cfg *config, get func(string) string) []error {
	var errs []error
	for _, p := range []struct {
		env string
		dst *billing.Price
	}{
		{"MEETINGD_PRICE_AUDIO_PER_MINUTE", &cfg.prices.Audio},
		{"MEETINGD_PRICE_VIDEO_PER_MINUTE", &cfg.prices.Video},
	} {
		v, err := billing.ParsePrice(get(p.env))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want a price per minute such as 0.001 (≥ 0, ≤ %d, at most 9 decimals), got %q", p.env, billing.MaxPrice, get(p.env)))
			continue
		}
		*p.dst = v
	}
	c := get("MEETINGD_PRICE_CURRENCY")
	if !isCurrencyCode(c) {
		errs = append(errs, fmt.Errorf("MEETINGD_PRICE_CURRENCY: want an ISO 4217 code such as USD, got %q", c))
	}
	cfg.prices.Currency = c
	return errs
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
