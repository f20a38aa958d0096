package main

import "testing"

func TestRefuseRetention(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		fail bool
	}{
		{map[string]string{}, false},
		{map[string]string{"MEETINGD_RETENTION": ""}, false},
		{map[string]string{"MEETINGD_RETENTION": "0"}, false},
		{map[string]string{"MEETINGD_RETENTION": "400d"}, true},
	} {
		err := refuseRetention(func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
		if (err != nil) != c.fail {
			t.Errorf("%v: %v", c.env, err)
		}
	}
}
