package main

import (
	"image"
	_ "image/png" // registers the format image.DecodeConfig recognises
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"
)

// samples returns n durations around mean, spread by jitter, with one slow outlier as a real run
// has.
func samples(rng *rand.Rand, n int, mean, jitter time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = mean + time.Duration(rng.NormFloat64()*float64(jitter))
	}
	out[n/2] = 3 * mean
	return out
}

// ramp returns n completion times over span, sparse at the start and end as a burst's are.
func ramp(n int, span time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		f := float64(i+1) / float64(n)
		out[i] = time.Duration(f * f * (3 - 2*f) * float64(span))
	}
	return out
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if format != "png" || cfg.Width != chartWidthPx || cfg.Height != chartHeightPx {
		t.Fatalf("%s: %s %d×%d, want png %d×%d", path, format, cfg.Width, cfg.Height, chartWidthPx, chartHeightPx)
	}
}

func TestChartsArePNGs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for _, c := range []struct {
		file string
		draw func(path string) error
	}{
		{"latency.png", func(path string) error {
			return latencyChart(path, samples(rng, 150, 100*time.Millisecond, 2*time.Millisecond),
				samples(rng, 150, 50*time.Millisecond, 3*time.Millisecond))
		}},
		// Identical samples leave no spread to bin.
		{"latency-flat.png", func(path string) error {
			return latencyChart(path, []time.Duration{time.Millisecond}, []time.Duration{time.Millisecond})
		}},
		{"throughput.png", func(path string) error {
			return throughputChart(path, 16, ramp(300, 9800*time.Millisecond), ramp(300, 7*time.Second))
		}},
		{"wakeup-drain.png", func(path string) error {
			early := append([]time.Duration{-200 * time.Millisecond}, ramp(999, 40*time.Second)...)
			return drainChart(path, 1000, ramp(1000, 30*time.Second), early)
		}},
		// Every conversation lost: the chart still says so rather than failing the run.
		{"wakeup-drain-none.png", func(path string) error {
			return drainChart(path, 1000, ramp(1000, 30*time.Second), nil)
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(dir, c.file)
			if err := c.draw(path); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, path)
		})
	}
}

func TestChartsRefuseEmptyPaths(t *testing.T) {
	dir := t.TempDir()
	if err := latencyChart(filepath.Join(dir, "l.png"), nil, []time.Duration{time.Millisecond}); err == nil {
		t.Error("latencyChart drew a path with no samples")
	}
	if err := throughputChart(filepath.Join(dir, "t.png"), 1, []time.Duration{time.Second}, nil); err == nil {
		t.Error("throughputChart drew a path with no completions")
	}
}

func TestChartSet(t *testing.T) {
	c, err := newChartSet("docs/performance", "docs/performance.md")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.add("latency.png", "Latency histogram", func(string) error { return nil }), "![Latency histogram](performance/latency.png)\n\n"; got != want {
		t.Errorf("link next to the report = %q, want %q", got, want)
	}

	off, err := newChartSet("", "docs/performance.md")
	if err != nil {
		t.Fatal(err)
	}
	if got := off.add("latency.png", "Latency histogram", func(string) error { t.Error("drew a chart with charts off"); return nil }); got != "" {
		t.Errorf("link with charts off = %q, want none", got)
	}
	if err := off.write(); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "not", "yet")
	on, err := newChartSet(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	on.add("throughput.png", "Throughput over time", func(path string) error {
		return throughputChart(path, 4, ramp(20, time.Second), ramp(20, 2*time.Second))
	})
	if err := on.write(); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(dir, "throughput.png"))
}

func TestCountBins(t *testing.T) {
	got := countBins([]float64{-1, 0, 0.99, 1, 2.5, 3, 7}, 0, 1, 3)
	if want := []float64{3, 1, 3}; !slices.Equal(got, want) {
		t.Fatalf("countBins = %v, want %v (outliers in the end bins)", got, want)
	}
}

func TestNiceStep(t *testing.T) {
	for x, want := range map[float64]float64{0.3 / 3: 0.1, 0.11: 0.2, 0.49: 0.5, 2.1: 2.5, 7: 10, 1000: 1000, 1001: 2000} {
		if got := niceStep(x); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", x, got, want)
		}
	}
}

func TestCumulative(t *testing.T) {
	got := cumulative([]time.Duration{2 * time.Second, -time.Second, time.Second}, 5)
	want := plotter.XYs{{X: -1, Y: 0}, {X: -1, Y: 1}, {X: 1, Y: 2}, {X: 2, Y: 3}, {X: 5, Y: 3}}
	if !slices.Equal(got, want) {
		t.Fatalf("cumulative = %v, want %v", got, want)
	}
	got = cumulative([]time.Duration{time.Second}, 0)
	want = plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}, {X: 1, Y: 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("cumulative = %v, want %v", got, want)
	}
}

func TestRoundTicks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tick := range roundTicks(lo, hi) {
			if !tick.IsMinor() {
				out = append(out, tick.Label)
			}
		}
		return out
	}
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 270, []string{"0", "100", "200"}},
		{0, 10, []string{"0", "2", "4", "6", "8", "10"}},
		{43.2, 121.7, []string{"60", "80", "100", "120"}},
		{-0.2, 1.1, []string{"0.0", "0.5", "1.0"}},
		{0, 1.2, []string{"0.00", "0.25", "0.50", "0.75", "1.00"}},
		{5, 5, []string{"5"}},
	} {
		if got := labels(c.lo, c.hi); !slices.Equal(got, c.want) {
			t.Errorf("roundTicks(%v, %v) labels %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}
