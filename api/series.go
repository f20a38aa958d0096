package api

import (
	"context"
	"encoding/csv"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/reports"
)

// series serves GET /v1/series/{seriesId}/attendance: the gradebook of a
// series, as JSON or (?format=csv, Accept: text/csv) CSV.
func (r *Reports) series(c *fiber.Ctx) error {
	app, err := appScope(c, true)
	if err != nil {
		return err
	}
	id, err := parsePathID("seriesId", param(c, "seriesId"), false)
	if err != nil {
		return err
	}
	q, err := reports.SeriesQuery{AppID: app, SeriesID: id}.Normalize()
	if err != nil {
		return err
	}
	asCSV, err := wantsCSV(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	rep, err := r.store.Series(ctx, q)
	if err != nil {
		return err
	}
	if asCSV {
		return writeSeriesCSV(c, rep)
	}
	return c.JSON(rep)
}

// seriesCSVHeader is the fixed part of the gradebook CSV's header; one
// column per session (headed by its session id) follows.
var seriesCSVHeader = []string{"participant", "name", "sessions_attended", "sessions_absent", "late_count",
	"left_early_count", "partial_count", "attended_seconds", "attendance_rate"}

// writeSeriesCSV writes the gradebook: one line per participant, the
// session columns holding the verdicts (empty where the participant was
// neither on the roster nor joined). Text is guarded against spreadsheet
// formulas like the attendance CSV's.
func writeSeriesCSV(c *fiber.Ctx, rep reports.SeriesReport) error {
	c.Set(fiber.HeaderContentType, mimeCSV+"; charset=utf-8")
	w := csv.NewWriter(c)
	head := append([]string(nil), seriesCSVHeader...)
	for _, s := range rep.Sessions {
		head = append(head, csvText(s.SessionID))
	}
	if err := w.Write(head); err != nil {
		return err
	}
	for _, p := range rep.Participants {
		rec := []string{
			csvText(p.Participant), csvText(p.Name), strconv.Itoa(p.SessionsAttended), strconv.Itoa(p.SessionsAbsent),
			strconv.Itoa(p.LateCount), strconv.Itoa(p.LeftEarlyCount), strconv.Itoa(p.PartialCount),
			strconv.FormatInt(p.AttendedSeconds, 10), strconv.FormatFloat(p.AttendanceRate, 'f', -1, 64),
		}
		for _, v := range p.Verdicts {
			if v == nil {
				rec = append(rec, "")
			} else {
				rec = append(rec, *v)
			}
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
