package erasure

import (
	"testing"

	"github.com/meetingd/meetingd/domain"
)

func TestNamesSubject(t *testing.T) {
	match := domain.PseudonymOf("app", domain.Pseudonym("app", "u-zelda"))
	for _, c := range []struct {
		body string
		want bool
	}{
		{`{"data":{"occupant":{"uid":"u-zelda","name":"Z"}}}`, true},
		{`{"u-zelda":1}`, true},
		{`["x",["u-zelda"]]`, true},
		{`{"data":{"occupant":{"uid":"u-zeldb"}}}`, false},
		{`{"data":"u-zelda-2"}`, false},
		{`{"a":"b"} trailing garbage "u-zelda"`, false},
		{`not json u-zelda`, false},
		{``, false},
	} {
		if got := namesSubject([]byte(c.body), match); got != c.want {
			t.Errorf("namesSubject(%s) = %v, want %v", c.body, got, c.want)
		}
	}
}
