package reports

import "time"

// Month buckets run from the 1st 00:00 local time to the next 1st.
const Month Bucket = "month"

// BucketStart returns the start of the bucket of width b, in loc, that holds
// t: for Hour the latest instant at or before t whose local time has minutes
// and seconds 00 (zones with :30 and :45 offsets included; the repeated hour
// of a DST fall-back is two buckets, one per offset); for Day local midnight
// (the first instant of t's local date when midnight itself does not exist);
// for Week the start of the ISO week's Monday; for Month the start of the
// 1st. The result is in loc, so its RFC 3339 form carries loc's offset at that
// instant. ok is false for a Bucket without a width.
func BucketStart(b Bucket, t time.Time, loc *time.Location) (start time.Time, ok bool) {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	switch b {
	case Hour:
		// Step back to minutes 00 of the local clock; a second step is needed
		// only when an offset change of a fraction of an hour (Lord Howe's
		// 30-minute DST) lies in between.
		for range 4 {
			back := time.Duration(lt.Minute())*time.Minute + time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
			if back == 0 {
				break
			}
			lt = lt.Add(-back)
		}
		return lt, true
	case Day:
		return dayStart(lt, 0), true
	case Week:
		return dayStart(lt, -((int(lt.Weekday()) + 6) % 7)), true
	case Month:
		y, m, _ := lt.Date()
		return firstInstantOf(lt, y, m, 1), true
	}
	return time.Time{}, false
}

// NextBucket returns the start of the bucket after the one that starts at
// start (a BucketStart result): 23, 24 or 25 hours later for a day on a DST
// change, one hour later for an hour. ok is false for a Bucket without a
// width.
func NextBucket(b Bucket, start time.Time) (time.Time, bool) {
	switch b {
	case Hour:
		// The next instant whose local minutes are 00: an hour later, unless
		// an offset change of a fraction of an hour lies in between. Offsets
		// are whole quarters of an hour (all of today's zones), so a
		// quarter-hour step finds it.
		for next := start.Add(15 * time.Minute); next.Sub(start) <= 2*time.Hour; next = next.Add(15 * time.Minute) {
			if next.Minute() == 0 && next.Second() == 0 {
				return next, true
			}
		}
		return start.Add(time.Hour), true
	case Day:
		y, m, d := start.Date()
		return firstInstantOf(start, y, m, d+1), true
	case Week:
		y, m, d := start.Date()
		return firstInstantOf(start, y, m, d+7), true
	case Month:
		y, m, _ := start.Date()
		return firstInstantOf(start, y, m+1, 1), true
	}
	return time.Time{}, false
}

// dayStart is the first instant of the local date lt's date + days.
func dayStart(lt time.Time, days int) time.Time {
	y, m, d := lt.Date()
	return firstInstantOf(lt, y, m, d+days)
}

// firstInstantOf returns the first instant of the local date (y, m, d) (d
// and m normalised as by time.Date) in ref's location: local midnight, or,
// in a zone whose clocks skip midnight (a DST change at 00:00), the instant
// the date begins.
func firstInstantOf(ref time.Time, y int, m time.Month, d int) time.Time {
	loc := ref.Location()
	mid := time.Date(y, m, d, 0, 0, 0, 0, loc)
	wy, wm, wd := time.Date(y, m, d, 12, 0, 0, 0, loc).Date() // the normalised date
	if gy, gm, gd := mid.Date(); gy == wy && gm == wm && gd == wd && mid.Hour() == 0 && mid.Minute() == 0 {
		// time.Date chooses one of two instants for an ambiguous midnight:
		// the earlier one is the day's start.
		if earlier := mid.Add(-time.Hour); earlier.Hour() == 0 && earlier.Minute() == 0 && earlier.Day() == gd {
			return earlier
		}
		return mid
	}
	// Midnight does not exist on this date: the date begins at the offset
	// change, the start of the zone period that holds noon.
	start, _ := time.Date(y, m, d, 12, 0, 0, 0, loc).ZoneBounds()
	return start
}
