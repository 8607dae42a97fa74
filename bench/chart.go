package main

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	upColor   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	downColor = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
)

// Chart draws two panels: one environment (median up and down per stack, min–max whiskers)
// and time to ready against the number of environments started at once.
func (r *Report) Chart(path string) error {
	left, err := r.singlePlot()
	if err != nil {
		return err
	}
	right, err := r.concPlot()
	if err != nil {
		return err
	}
	const w, h = 12 * vg.Inch, 4.5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{left, right}}, tiles, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		return err
	}
	return f.Close()
}

func (r *Report) singlePlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("One environment: up (to /readyz 200) and down, %d CPUs", r.Machine.NProc)
	p.Y.Label.Text = "seconds (box: quartiles, line: median)"
	p.Y.Min = 0
	var names []string
	width := vg.Points(18)
	for _, st := range r.Stacks {
		ss := r.ok(st, 1)
		if len(ss) == 0 {
			continue
		}
		x := float64(len(names))
		names = append(names, st)
		var up, down plotter.Values
		for _, s := range ss {
			up = append(up, s.Up.Seconds())
			down = append(down, s.Down.Seconds())
		}
		bu, err := plotter.NewBoxPlot(width, x-0.18, up)
		if err != nil {
			return nil, err
		}
		bu.FillColor = upColor
		bd, err := plotter.NewBoxPlot(width, x+0.18, down)
		if err != nil {
			return nil, err
		}
		bd.FillColor = downColor
		p.Add(bu, bd)
		if len(names) == 1 {
			for _, l := range []struct {
				name string
				c    color.Color
			}{{"up", upColor}, {"down", downColor}} {
				swatch, err := plotter.NewBarChart(plotter.Values{0}, width)
				if err != nil {
					return nil, err
				}
				swatch.Color = l.c
				p.Legend.Add(l.name, swatch) // legend only: not added to the plot
			}
		}
	}
	p.Legend.Top = true
	if len(names) > 0 {
		p.NominalX(names...)
	}
	return p, nil
}

func (r *Report) concPlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Time to ready vs environments at once (median)"
	p.X.Label.Text = "environments started at once"
	p.Y.Label.Text = "seconds"
	p.Y.Min = 0
	var args []any
	for _, st := range r.Stacks {
		var pts plotter.XYs
		for _, k := range r.levels() {
			ss := r.ok(st, k)
			if len(ss) == 0 {
				continue
			}
			u, _, _ := upDownMem(ss)
			pts = append(pts, plotter.XY{X: float64(k), Y: u.Med})
		}
		if len(pts) > 0 {
			args = append(args, st, pts)
		}
	}
	if len(args) > 0 {
		if err := plotutil.AddLinePoints(p, args...); err != nil {
			return nil, err
		}
	}
	p.Legend.Top = true
	p.Legend.Left = true
	return p, nil
}

// SuiteChart draws the suite scenario: the whole suite's time per way (median over rounds)
// and the per-test wait (box over every test of every round), on a log scale so that waits
// of milliseconds and seconds both show.
func (r *Report) SuiteChart(path string) error {
	ways := r.suiteWaysRun()
	left := plot.New()
	left.Title.Text = fmt.Sprintf("Suite of %d tests, each on a clean stack: whole suite (median)", r.Suite[0].Tests)
	left.Y.Label.Text = "seconds"
	left.Y.Min = 0
	var vals plotter.Values
	var names []string
	for _, w := range ways {
		var v []float64
		for _, s := range r.suiteOK(w) {
			v = append(v, s.Suite.Seconds())
		}
		vals = append(vals, stats(v).Med)
		names = append(names, w)
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(28))
	if err != nil {
		return err
	}
	bars.Color = upColor
	left.Add(bars)
	left.NominalX(names...)

	right := plot.New()
	right.Title.Text = "Per-test wait for a clean stack (box: quartiles; log scale)"
	right.Y.Label.Text = "seconds"
	right.Y.Scale = plot.LogScale{}
	right.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	for i, w := range ways {
		var v plotter.Values
		for _, s := range r.suiteOK(w) {
			for _, d := range s.Waits {
				v = append(v, max(d.Seconds(), 1e-4))
			}
		}
		if len(v) == 0 {
			continue
		}
		bx, err := plotter.NewBoxPlot(vg.Points(18), float64(i), v)
		if err != nil {
			return err
		}
		bx.FillColor = downColor
		right.Add(bx)
	}
	right.NominalX(names...)

	const w, h = 14 * vg.Inch, 4.5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{left, right}}, tiles, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		return err
	}
	return f.Close()
}
