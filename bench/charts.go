package main

// Charts of the report's figures, drawn from the same run's samples: the two paths' latency
// distributions, their throughput bursts over time, and the quiet-hours wake-up drain. Each is a
// PNG next to the report and linked from it, so that a reader can see the shape behind a
// percentile or a rate.

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Every chart has the same size, so that they line up in the report.
const (
	chartWidthPx, chartHeightPx = 1000, 560
	chartDPI                    = 100
)

// Okabe–Ito blue and vermillion: told apart with the common colour-vision deficiencies too.
var (
	bareColor     = color.NRGBA{R: 0, G: 114, B: 178, A: 255}
	ringbackColor = color.NRGBA{R: 213, G: 94, B: 0, A: 255}
)

// chartSet is the charts of one run. They are queued while the report is rendered, so that its
// text can link them, and drawn into dir once the run has finished.
type chartSet struct {
	dir   string // "" draws none and links none
	link  string // dir as the report links it
	draws []func() error
	files []string
}

// newChartSet places the charts in dir, linked relative to the report at out (or as dir itself
// when no report is written).
func newChartSet(dir, out string) (*chartSet, error) {
	c := &chartSet{dir: dir, link: filepath.ToSlash(dir)}
	if dir == "" || out == "" {
		return c, nil
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	absReport, err := filepath.Abs(filepath.Dir(out))
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(absReport, absDir)
	if err != nil {
		return nil, err
	}
	c.link = filepath.ToSlash(rel)
	return c, nil
}

// add queues a chart drawn into file by draw and returns the markdown that shows it, or "" when
// charts are off.
func (c *chartSet) add(file, alt string, draw func(path string) error) string {
	if c.dir == "" {
		return ""
	}
	path := filepath.Join(c.dir, file)
	c.draws = append(c.draws, func() error { return draw(path) })
	c.files = append(c.files, path)
	return fmt.Sprintf("![%s](%s/%s)\n\n", alt, c.link, file)
}

// write draws every queued chart.
func (c *chartSet) write() error {
	if c.dir == "" || len(c.draws) == 0 {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	for i, draw := range c.draws {
		if err := draw(); err != nil {
			return fmt.Errorf("chart %s: %w", c.files[i], err)
		}
	}
	return nil
}

// latencyChart draws both paths' latency samples as histograms on shared bins, with each path's
// p50 (solid) and p99 (dashed) as vertical lines.
func latencyChart(path string, bare, ringback []time.Duration) error {
	if len(bare) == 0 || len(ringback) == 0 {
		return errors.New("a path has no latency samples")
	}
	all := slices.Concat(bare, ringback)
	lo, slowest := millis(slices.Min(all)), millis(slices.Max(all))
	// The axis ends a quarter of the way past the slower p99 (counted from the fastest sample),
	// so that a few stragglers (a GC pause, a disk flush) do not squeeze both distributions into
	// a couple of bins; the legend counts them.
	hi := min(slowest, lo+1.25*(millis(max(percentile(bare, 0.99), percentile(ringback, 0.99)))-lo))
	width := niceStep(max(hi-lo, 1) / 60)
	lo = math.Floor(lo/width) * width
	n := max(1, int(math.Ceil((hi-lo)/width)))

	p := newChart(fmt.Sprintf("Latency, %d and %d sequential samples: bare engine start → activity, Ringback webhook → first text",
		len(bare), len(ringback)), "latency (ms)", fmt.Sprintf("samples per %s ms bin", formatFloat(width)))
	top := 0.0
	var marks []*plotter.Line
	for _, s := range []struct {
		name    string
		samples []time.Duration
		colour  color.NRGBA
	}{
		{"bare engine (workflow start → activity)", bare, bareColor},
		{"Ringback (signed webhook → first text)", ringback, ringbackColor},
	} {
		var xs []float64
		beyond := ""
		for _, d := range s.samples {
			if x := millis(d); x <= hi {
				xs = append(xs, x)
			}
		}
		if k := len(s.samples) - len(xs); k > 0 {
			beyond = fmt.Sprintf("; %d beyond the axis, up to %.1f ms", k, millis(slices.Max(s.samples)))
		}
		h := &plotter.Histogram{Width: width, FillColor: withAlpha(s.colour, 110),
			LineStyle: draw.LineStyle{Color: s.colour, Width: vg.Points(0.75)}}
		for i, c := range countBins(xs, lo, width, n) {
			// An empty bin would draw its outline along the axis, across the other path's bars.
			if c > 0 {
				h.Bins = append(h.Bins, plotter.HistogramBin{Min: lo + float64(i)*width, Max: lo + float64(i+1)*width, Weight: c})
			}
			top = max(top, c)
		}
		p.Add(h)
		p50, p99 := percentile(s.samples, 0.5), percentile(s.samples, 0.99)
		p.Legend.Add(fmt.Sprintf("%s: p50 %.1f ms, p99 %.1f ms%s", s.name, millis(p50), millis(p99), beyond), h)
		marks = append(marks, verticalLine(millis(p50), s.colour, false), verticalLine(millis(p99), s.colour, true))
	}
	for _, m := range marks {
		m.XYs[1].Y = top * 1.1
		// After every histogram, so that no bar covers a mark.
		p.Add(m)
	}
	p.Legend.Add("p50 (solid line)", verticalLine(0, color.Black, false))
	p.Legend.Add("p99 (dashed line)", verticalLine(0, color.Black, true))
	p.X.Min, p.X.Max = lo, lo+float64(n)*width
	// Headroom above the bars for the legend.
	p.Y.Min, p.Y.Max = 0, top*1.6
	return savePNG(p, path)
}

// throughputChart draws each path's completions per second during its burst of starts, with
// inFlight in flight, over time from the burst's first start. bare and ringback hold each
// completion's time since that start. Both paths share the bins.
func throughputChart(path string, inFlight int, bare, ringback []time.Duration) error {
	if len(bare) == 0 || len(ringback) == 0 {
		return errors.New("a path has no completions")
	}
	last := max(slices.Max(bare), slices.Max(ringback)).Seconds()
	// About 20 bins over the longer burst: enough to show its ramp and tail, with enough
	// completions in each for a rate.
	width := niceStep(max(last, 0.001) / 20)
	n := max(1, int(math.Ceil(last/width)))
	p := newChart(fmt.Sprintf("Throughput burst: completions per second over time, %d and %d starts, %d in flight",
		len(bare), len(ringback), inFlight),
		"time since the burst's first start (s)", fmt.Sprintf("completions per second (in %s s bins)", formatFloat(width)))
	for _, s := range []struct {
		name, unit string
		done       []time.Duration
		colour     color.NRGBA
	}{
		{"bare engine (workflow → activity)", "workflows", bare, bareColor},
		{"Ringback (signed webhook → text)", "calls", ringback, ringbackColor},
	} {
		xs := make([]float64, len(s.done))
		for i, d := range s.done {
			xs[i] = d.Seconds()
		}
		pts := make(plotter.XYs, 0, n+1)
		for i, c := range countBins(xs, 0, width, n) {
			pts = append(pts, plotter.XY{X: float64(i) * width, Y: c / width})
		}
		// The last bin's step needs an end.
		pts = append(pts, plotter.XY{X: float64(n) * width, Y: pts[n-1].Y})
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = draw.LineStyle{Color: s.colour, Width: vg.Points(2)}
		l.FillColor = withAlpha(s.colour, 40)
		p.Add(l)
		end := slices.Max(s.done).Seconds()
		p.Legend.Add(fmt.Sprintf("%s: %d %s in %.1f s, %.1f/s overall", s.name, len(s.done), s.unit, end, float64(len(s.done))/end), l)
	}
	p.Y.Min = 0
	p.Y.Max *= 1.35
	return savePNG(p, path)
}

// drainChart draws, for each fleet of n units asleep until one instant, how many had arrived
// (a bare workflow's wake-up at the sink, a conversation's first text at the Twilio fake) by
// each moment after that instant. bare and ringback hold each arrival's time since the instant;
// an early arrival is negative. A fleet with none arrived draws no line.
func drainChart(path string, n int, bare, ringback []time.Duration) error {
	end := 0.0
	for _, d := range slices.Concat(bare, ringback) {
		end = max(end, d.Seconds())
	}
	p := newChart(fmt.Sprintf("Wake-up drain: %d units asleep until one instant, arrivals after it", n),
		"time after the wake-up instant (s)", "units arrived (cumulative count)")
	for _, s := range []struct {
		name     string
		arrivals []time.Duration
		colour   color.NRGBA
	}{
		{"bare engine (wake-ups at the sink)", bare, bareColor},
		{"Ringback (first texts at the Twilio fake)", ringback, ringbackColor},
	} {
		label := fmt.Sprintf("%s: %d of %d", s.name, len(s.arrivals), n)
		if len(s.arrivals) == 0 {
			p.Legend.Add(label+", none arrived", verticalLine(0, s.colour, false))
			continue
		}
		pts := cumulative(s.arrivals, end)
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = draw.LineStyle{Color: s.colour, Width: vg.Points(2)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s, the last at %.1f s", label, slices.Max(s.arrivals).Seconds()), l)
	}
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(8)
	p.Y.Min, p.Y.Max = 0, float64(n)*1.35
	return savePNG(p, path)
}

// cumulative returns the steps of the count of arrivals over time: from zero (or the first
// arrival, if it came before the instant) up by one at each arrival, then flat until end.
func cumulative(arrivals []time.Duration, end float64) plotter.XYs {
	sorted := slices.Sorted(slices.Values(arrivals))
	pts := make(plotter.XYs, 0, len(sorted)+2)
	pts = append(pts, plotter.XY{X: min(0, sorted[0].Seconds()), Y: 0})
	for i, d := range sorted {
		pts = append(pts, plotter.XY{X: d.Seconds(), Y: float64(i + 1)})
	}
	return append(pts, plotter.XY{X: max(end, sorted[len(sorted)-1].Seconds()), Y: float64(len(sorted))})
}

// countBins counts xs in n bins of width from lo; values outside go to the first or last bin.
func countBins(xs []float64, lo, width float64, n int) []float64 {
	counts := make([]float64, n)
	for _, x := range xs {
		counts[min(n-1, max(0, int(math.Floor((x-lo)/width))))]++
	}
	return counts
}

// niceStep rounds x up to 1, 2, 2.5 or 5 times a power of ten, so that bin edges fall on round
// values.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		// The tolerance keeps x itself when it already is round (0.3/3 is not quite 0.1).
		if x <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// roundTicks labels about five round values between lo and hi, with a minor tick halfway
// between each.
func roundTicks(lo, hi float64) []plot.Tick {
	if hi <= lo {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	step := niceStep((hi - lo) / 5)
	decimals := 0
	for ; decimals < 6; decimals++ {
		if scaled := step * math.Pow10(decimals); math.Abs(scaled-math.Round(scaled)) < 1e-9*scaled {
			break
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if v == 0 {
			v = 0 // not "-0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
		if minor := (k + 0.5) * step; minor <= hi {
			ticks = append(ticks, plot.Tick{Value: minor})
		}
	}
	if minor := (math.Ceil(lo/step-1e-9) - 0.5) * step; minor >= lo {
		ticks = append(ticks, plot.Tick{Value: minor})
	}
	return ticks
}

func newChart(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	for size, styles := range map[vg.Length][]*text.Style{
		14: {&p.Title.TextStyle},
		12: {&p.X.Label.TextStyle, &p.Y.Label.TextStyle},
		11: {&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle},
	} {
		for _, s := range styles {
			s.Font.Variant, s.Font.Size = "Sans", size
		}
	}
	// The default ticks can be as few as two, labelled like "250.00".
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.TickerFunc(roundTicks), plot.TickerFunc(roundTicks)
	p.Title.Padding = vg.Points(10)
	p.Legend.Top = true
	// Clear of the frame, which the legend would otherwise touch.
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), -vg.Points(4)
	p.Add(plotter.NewGrid())
	return p
}

// verticalLine is a line at x from zero up (its top is set once the height is known); in a
// legend it shows its style.
func verticalLine(x float64, colour color.Color, dashed bool) *plotter.Line {
	l := &plotter.Line{XYs: plotter.XYs{{X: x, Y: 0}, {X: x, Y: 1}}, LineStyle: draw.LineStyle{Color: colour, Width: vg.Points(1.5)}}
	if dashed {
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	}
	return l
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA {
	c.A = a
	return c
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// formatFloat prints a bin width without trailing zeros.
func formatFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// savePNG writes p to path at the charts' common size.
func savePNG(p *plot.Plot, path string) error {
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(chartWidthPx)/chartDPI*vg.Inch, vg.Length(chartHeightPx)/chartDPI*vg.Inch),
		vgimg.UseDPI(chartDPI))
	p.Draw(draw.New(c))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
