package admin

import (
	"strconv"
	"strings"

	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// rolloutDays is how many days the dashboard's chart goes back at most.
const rolloutDays = 90

// Size of the chart's drawing area, in the SVG's own units; the page
// scales it to its width.
const (
	chartWidth  = 600
	chartHeight = 200
	chartLeft   = 48 // room for the axis labels
	chartBottom = 24
)

// rolloutChart is the enrolled-users-over-time chart: an SVG polyline
// drawn on the server, and the same figures as a table for screen readers.
type rolloutChart struct {
	Days   []policy.RolloutDay
	Points string // the polyline's points
	Max    int
	// Labels of the axes.
	First, Last string
	MaxY        float64 // where the Max label sits
	Width       int
	Height      int
	Left        int
	Base        int // the y of the x axis
	Summary     string
	Groups      []store.Group
	Group       string // the chosen group's key, "" for everyone
	GroupName   string
}

// newRolloutChart lays out days on the chart's drawing area.
func newRolloutChart(days []policy.RolloutDay) rolloutChart {
	ch := rolloutChart{Days: days, Width: chartWidth, Height: chartHeight, Left: chartLeft, Base: chartHeight - chartBottom}
	for _, d := range days {
		ch.Max = max(ch.Max, d.Enrolled)
	}
	scale := max(ch.Max, 1)
	plotW := float64(chartWidth - chartLeft - 8)
	plotH := float64(ch.Base - 12)
	var pts []string
	for i, d := range days {
		x := float64(chartLeft)
		if len(days) > 1 {
			x += plotW * float64(i) / float64(len(days)-1)
		}
		y := float64(ch.Base) - plotH*float64(d.Enrolled)/float64(scale)
		pts = append(pts, strconv.FormatFloat(x, 'f', 1, 64)+","+strconv.FormatFloat(y, 'f', 1, 64))
	}
	if len(pts) == 1 {
		// One day: a short flat line, so that the day shows.
		pts = append(pts, strconv.Itoa(chartWidth-8)+","+strings.Split(pts[0], ",")[1])
	}
	ch.Points = strings.Join(pts, " ")
	ch.MaxY = float64(ch.Base) - plotH + 4
	first, last := days[0], days[len(days)-1]
	ch.First, ch.Last = first.Day.Format("2 Jan 2006"), last.Day.Format("2 Jan 2006")
	ch.Summary = "Enrolled users from " + ch.First + " (" + strconv.Itoa(first.Enrolled) + ") to " + ch.Last + " (" + strconv.Itoa(last.Enrolled) + ")."
	return ch
}
