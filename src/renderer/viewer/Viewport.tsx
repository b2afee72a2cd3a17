/**
 * The image viewport: the slice renderer (WebGL2, Canvas2D fallback) under an SVG layer with the
 * corner annotations, orientation markers, scale bar and length measurements. Mouse conventions
 * of OHIF/Weasis: each button runs the tool bound to it (default left = window/level, middle =
 * pan, right = zoom), the wheel scrolls slices.
 */
import { useEffect, useRef, useState } from 'react';
import type { SliceData } from '../api/client';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';
import { Canvas2dSliceRenderer } from './canvas2d';
import { clearOf, directionLetters, horizontalSpacing, imageToScreen, labelPlacement, niceMm, screenDirections, screenToImage, viewMatrix, type LabelBox } from './geometry';
import { GlSliceRenderer } from './gl';
import { ellipseOf, ellipseStats, lengthOf, measurementPoints, shortAxisOf } from '../../shared/roi';
import { pixelAt, scalarValues } from './slice';
import type { RoiStats } from '../../shared/roi';
import type { HeatState, SliceRenderer, ViewState } from './types';
import type { OverlayPlane, PixelCalibration, PixelSpacingSource } from '../../shared/dicom';
import { measurementSpacing } from '../../shared/dicom';
import { overlayImageUrl } from './overlay-planes';
import { useSliceWheel } from './use-slice-wheel';
import { handleAt, handlesOf, moveHandle } from './handles';
import { dragWindow } from './window';
import type { ReadingStep } from '../../shared/planes';

export type Tool = 'wl' | 'pan' | 'zoom' | 'length' | 'ellipse' | 'bidirectional' | 'probe' | 'scroll';

/** Stack scroll (OHIF's StackScroll, Weasis' Sequence): one slice per this many pixels dragged. */
const SCROLL_PX = 6;
export type Bindings = { left: Tool; middle: Tool; right: Tool };

export interface Measurement {
  slice: number;
  a: [number, number];
  b: [number, number];
  /** A length from a to b (the default), an ellipse ROI in the box from a to b, or a bidirectional measurement: long axis a-b, short axis c-d. */
  kind?: 'length' | 'ellipse' | 'bidirectional';
  c?: [number, number];
  d?: [number, number];
  /** Measured when drawn (for the measurements panel; the report measures again from the file). */
  length?: { value: number; unit: 'mm' | 'px' };
  /** A bidirectional measurement's short axis. */
  shortAxis?: { value: number; unit: 'mm' | 'px' };
  stats?: RoiStats;
  /** The statistics are of a colour slice's luminance (Rec. 601), as the report gives them. */
  luminance?: boolean;
  /** Measured in mm from a calibration that is not PixelSpacing (a radiograph's detector, an ultrasound region): said beside the value. */
  calibration?: Exclude<PixelSpacingSource, 'pixel'>;
  /** The axial slice's instance (`<SOPInstanceUID>#<frame>`): where the measurement moves when slice numbers change. */
  instance?: string;
  /** On a reformat: the slice count of the stack it was drawn on (a stack re-assembled with more slices is another reformat). */
  stack?: number;
  /** Its number (M3), kept when others are deleted (viewer/measure-labels.ts). */
  label?: number;
}

export interface ViewportProps {
  slice: SliceData | null;
  index: number;
  count: number;
  /** The index the reader's next slice is at (+1, or -1 for an axial stack, read head to feet: shared/planes.ts); the wheel, down, and the Scroll tool, dragged down, go there. */
  readingStep?: ReadingStep;
  /** The number the viewer gives slice `i` (from 1 in reading order), for messages. */
  sliceNumber?(i: number): number;
  view: ViewState;
  onView(v: ViewState): void;
  onIndex(i: number): void;
  heat: HeatState | null;
  bindings: Bindings;
  measurements: Measurement[];
  onMeasure(m: Measurement): void;
  /** A measurement's handle was dragged: `i` indexes `measurements`. */
  onEditMeasurement?(i: number, m: Measurement): void;
  /**
   * The image's pixel spacing (mm, [row, column]), where it comes from and where it holds
   * (ultrasound regions): a measurement takes it only inside one region (measurementSpacing, as
   * the report), and a calibration that is not PixelSpacing is said beside the value. Absent: pixels.
   */
  calibration?: PixelCalibration | undefined;
  orientation?: number[] | undefined;
  corners: { tl: string[]; tr: string[]; bl: string[]; br: string[] };
  onRendererKind?(kind: SliceRenderer['kind']): void;
  onSize?(w: number, h: number): void;
  /** Why the slice at `index` could not be shown (shown over the empty viewport). */
  error?: string | undefined;
  /** The slice's DICOM overlay planes (60xx) to draw over it, unaffected by the window. */
  overlays?: OverlayPlane[] | undefined;
  /** Said on the image under the heatmap: the slice is below the class's operating threshold, so its map is no finding. */
  heatCaveat?: string | undefined;
  /** The pixel values are Hounsfield units (CT): the probe says "HU"; otherwise a bare modality value. */
  hounsfield?: boolean;
  /** The slice the probe and ROI statistics read, when it is not the one shown: the axial slice under a thick slab, as the report measures it. */
  measured?: SliceData | null | undefined;
  /** While a finding the reviewer adds is being placed: the next left click on the image says where (image coordinates), instead of the bound tool. */
  onPlace?(point: [number, number]): void;
  /**
   * Findings on this slice, a ring and their label (F5), as the report draws them: the reviewer's
   * where they placed them; the model's (`ai`) dashed, at the map's peak on the key slice (`key`),
   * thinner on the other slices of its core.
   */
  marks?: { point: [number, number]; label: string; ai?: boolean; key?: boolean }[];
}

const BUTTONS: (keyof Bindings)[] = ['left', 'middle', 'right'];
/** Measurement labels: the overlay's font size (styles.css), its line advance (1.2em) and about how far the first baseline is below the top. */
const LABEL_FONT_PX = 13;
const LABEL_LINE_PX = LABEL_FONT_PX * 1.2;
const LABEL_ASCENT_PX = LABEL_FONT_PX;

export function Viewport(p: ViewportProps) {
  const { t, num } = useI18n();
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const renderer = useRef<SliceRenderer | null>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const [probe, setProbe] = useState<{ x: number; y: number; v: ReturnType<typeof pixelAt> } | null>(null);
  const [drawing, setDrawing] = useState<Measurement | null>(null);
  // a bidirectional measurement between its two drags: the long axis drawn, the short axis next
  const [longAxis, setLongAxis] = useState<Measurement | null>(null);
  const [gpuLost, setGpuLost] = useState(false);
  const measureCtx = useRef<CanvasRenderingContext2D | null>(null);
  const drag = useRef<{ tool: Tool | 'edit'; x: number; y: number; view: ViewState; start: [number, number]; index: number } | null>(null);
  // a measurement whose handle is being dragged: its index in `measurements`, the handle, its shape now
  const [editing, setEditing] = useState<{ i: number; k: number; m: Measurement } | null>(null);
  const [overHandle, setOverHandle] = useState(false);
  const props = useRef(p);
  props.current = p;

  // renderer: WebGL2 when available, else Canvas2D
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    let r: SliceRenderer;
    try {
      r = new GlSliceRenderer(c, (ok) => setGpuLost(!ok));
    } catch {
      r = new Canvas2dSliceRenderer(c);
    }
    renderer.current = r;
    props.current.onRendererKind?.(r.kind);
    return () => r.dispose();
  }, []);

  // size: follow the container, in device pixels
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const w = el.clientWidth;
      const h = el.clientHeight;
      const dpr = window.devicePixelRatio || 1;
      if (canvas.current) {
        canvas.current.width = Math.max(1, Math.round(w * dpr));
        canvas.current.height = Math.max(1, Math.round(h * dpr));
      }
      setSize({ w, h });
      props.current.onSize?.(w, h);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // the wheel over the image pages through slices and nothing else
  useSliceWheel(wrap, props);

  useEffect(() => {
    renderer.current?.setSlice(p.slice);
  }, [p.slice]);
  useEffect(() => {
    renderer.current?.setHeat(p.heat);
  }, [p.heat]);
  useEffect(() => {
    renderer.current?.render(p.view);
  }, [p.slice, p.heat, p.view, size]);

  const imgPoint = (e: { clientX: number; clientY: number }): [number, number] | null => {
    const s = props.current.slice;
    const el = canvas.current;
    if (!s || !el) return null;
    const r = el.getBoundingClientRect();
    return screenToImage(e.clientX - r.left, e.clientY - r.top, r.width, r.height, s.columns, s.rows, props.current.view);
  };

  /** The handle of a measurement on this slice under the pointer (within 6 screen px), as OHIF's handles: any tool's left button grabs it. */
  const handleUnder = (e: { clientX: number; clientY: number }): { i: number; k: number } | null => {
    const el = canvas.current;
    const q = props.current;
    const sl = q.slice;
    if (!el || !sl || longAxis) return null;
    const r = el.getBoundingClientRect();
    const at: [number, number] = [e.clientX - r.left, e.clientY - r.top];
    // the nearest handle of any measurement on this slice, so of two close ones either can be taken
    let best: { i: number; k: number } | null = null;
    let bestD = Infinity;
    for (const [i, m] of q.measurements.entries()) {
      if (m.slice !== q.index) continue;
      const hs = handlesOf(m).map((h) => imageToScreen(h[0], h[1], r.width, r.height, sl.columns, sl.rows, q.view));
      const k = handleAt(hs, at, 6);
      const d = k >= 0 ? Math.hypot(hs[k][0] - at[0], hs[k][1] - at[1]) : Infinity;
      if (d < bestD) [best, bestD] = [{ i, k }, d];
    }
    return best;
  };

  const onPointerDown = (e: React.PointerEvent) => {
    const key = BUTTONS[e.button];
    if (!key) return;
    e.preventDefault();
    (e.target as Element).setPointerCapture(e.pointerId);
    if (key === 'left' && p.onPlace) {
      const at = imgPoint(e);
      const s = props.current.slice;
      // on the image only: a click beside it places nothing
      if (at && s && at[0] >= 0 && at[1] >= 0 && at[0] < s.columns && at[1] < s.rows) p.onPlace(at);
      return;
    }
    const tool = p.bindings[key];
    const start = imgPoint(e) ?? [0, 0];
    const grab = key === 'left' && p.onEditMeasurement ? handleUnder(e) : null;
    if (grab) {
      drag.current = { tool: 'edit', x: e.clientX, y: e.clientY, view: p.view, start, index: p.index };
      setEditing({ ...grab, m: p.measurements[grab.i] });
      return;
    }
    drag.current = { tool, x: e.clientX, y: e.clientY, view: p.view, start, index: p.index };
    if (tool === 'length' || tool === 'ellipse') setDrawing({ slice: p.index, a: start, b: start, kind: tool });
    // bidirectional: the first drag is the long axis (drawn as a length), the second the short one
    else if (tool === 'bidirectional') setDrawing(longAxis ? { ...longAxis } : { slice: p.index, a: start, b: start, kind: 'length' });
  };
  /** The short axis of the pending long axis for a drag from p0 to p1 (perpendicular in mm, crossing it). */
  const withShortAxis = (l: Measurement, p0: [number, number], p1: [number, number]): Measurement => {
    const ax = shortAxisOf(l.a, l.b, p0, p1, props.current.calibration?.pixelSpacing);
    return ax ? { ...l, kind: 'bidirectional', c: ax.c, d: ax.d } : { ...l };
  };
  // a pending long axis belongs to its slice: another slice, or Escape, drops it
  useEffect(() => setLongAxis(null), [p.index]);
  useEffect(() => {
    if (!longAxis) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setLongAxis(null);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [longAxis]);

  const onPointerMove = (e: React.PointerEvent) => {
    const s = p.measured ?? p.slice;
    const ip = imgPoint(e);
    if (s && ip) {
      const x = Math.floor(ip[0]);
      const y = Math.floor(ip[1]);
      setProbe(x >= 0 && y >= 0 && x < s.columns && y < s.rows ? { x, y, v: pixelAt(s, x, y) } : null);
    }
    const d = drag.current;
    if (!d) {
      setOverHandle(!!p.onEditMeasurement && handleUnder(e) !== null);
      return;
    }
    if (d.tool === 'edit') {
      if (editing && ip) {
        const orig = p.measurements[editing.i];
        // measured again when dropped; an ellipse's statistics are taken live from the new shape meanwhile
        const { stats: _s, length: _l, shortAxis: _a, ...shape } = moveHandle(orig, editing.k, ip, p.calibration?.pixelSpacing);
        setEditing({ ...editing, m: shape });
      }
      return;
    }
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    const v = d.view;
    if (d.tool === 'wl') {
      // OHIF: horizontal drag = width, vertical = level; both scale with the width (window.ts)
      p.onView({ ...v, ...dragWindow(v, dx, dy) });
    } else if (d.tool === 'pan') {
      p.onView({ ...v, panX: v.panX + dx, panY: v.panY + dy });
    } else if (d.tool === 'zoom') {
      // dragging up zooms in: 140 px doubles the size (at 100 px per e it overshot the size wanted)
      p.onView({ ...v, zoom: Math.min(40, Math.max(0.05, v.zoom * Math.exp(-dy * 0.005))) });
    } else if (d.tool === 'scroll') {
      // dragging down goes to the next slice in reading order, as the wheel does
      const i = Math.min(p.count - 1, Math.max(0, d.index + Math.round(dy / SCROLL_PX) * (p.readingStep ?? 1)));
      if (i !== p.index) p.onIndex(i);
    } else if ((d.tool === 'length' || d.tool === 'ellipse') && ip) {
      setDrawing({ slice: p.index, a: d.start, b: ip, kind: d.tool });
    } else if (d.tool === 'bidirectional' && ip) {
      setDrawing(longAxis ? withShortAxis(longAxis, d.start, ip) : { slice: p.index, a: d.start, b: ip, kind: 'length' });
    }
  };

  const onPointerUp = () => {
    const d = drag.current;
    drag.current = null;
    if (d?.tool === 'edit') {
      const orig = editing ? p.measurements[editing.i] : undefined;
      if (editing && orig && editing.m !== orig) p.onEditMeasurement?.(editing.i, editing.m);
      setEditing(null);
      return;
    }
    if ((d?.tool === 'length' || d?.tool === 'ellipse') && drawing) {
      const w = Math.abs(drawing.b[0] - drawing.a[0]);
      const h = Math.abs(drawing.b[1] - drawing.a[1]);
      if (drawing.kind === 'ellipse' ? w > 1 && h > 1 : Math.hypot(w, h) > 1) p.onMeasure(drawing);
    } else if (d?.tool === 'bidirectional' && drawing) {
      if (!longAxis) {
        if (lengthOf(drawing.a, drawing.b).value > 1) setLongAxis(drawing);
      } else if (drawing.kind === 'bidirectional' && drawing.c && drawing.d && lengthOf(drawing.c, drawing.d).value > 1) {
        setLongAxis(null);
        p.onMeasure(drawing);
      }
    }
    setDrawing(null);
  };

  // labels are placed from their measured width, so one near an edge is drawn on the other side of its point
  const textWidth = (text: string): number => {
    if (!measureCtx.current) {
      const ctx = document.createElement('canvas').getContext('2d');
      if (ctx && wrap.current) ctx.font = `${LABEL_FONT_PX}px ${getComputedStyle(wrap.current).fontFamily}`;
      measureCtx.current = ctx;
    }
    // the black halo (stroke) adds a little on each side; without a context, an average glyph width
    return (measureCtx.current?.measureText(text).width ?? text.length * LABEL_FONT_PX * 0.6) + 3;
  };
  /** Where a label of these lines goes: beside the span left..right (a point, or an ellipse's box), first baseline at `baseline` if it can. */
  // the labels placed so far in this frame: each next one is moved clear of them (clearOf)
  const placed: LabelBox[] = [];
  const place = (lines: string[], left: number, right: number, baseline: number) => {
    const w = Math.max(0, ...lines.map(textWidth));
    const h = lines.length * LABEL_LINE_PX;
    const box = labelPlacement(left, right, baseline - LABEL_ASCENT_PX, w, h, size.w, size.h);
    const x0 = box.anchor === 'start' ? box.x : box.x - w;
    const clear = clearOf({ x0, y0: box.top, x1: x0 + w, y1: box.top + h }, placed, size.h);
    placed.push(clear);
    return { x: box.x, y: clear.y0 + LABEL_ASCENT_PX, anchor: box.anchor };
  };
  /** A measurement's number, ending left of its first point: where it goes, and kept clear of by the labels after it. */
  const idAt = (text: string, right: number, baseline: number) => {
    const w = textWidth(text);
    // two measurements drawn from one point (a length across an ROI's corner) move apart too
    const clear = clearOf({ x0: right - w, y0: baseline - LABEL_ASCENT_PX, x1: right, y1: baseline - LABEL_ASCENT_PX + LABEL_LINE_PX }, placed, size.h);
    placed.push(clear);
    return { x: right, y: clear.y0 + LABEL_ASCENT_PX };
  };

  /** A colour pixel's R G B; a grey one's value, in HU on CT. */
  const probeText = (v: ReturnType<typeof pixelAt>): string =>
    typeof v !== 'number' ? t('viewer.rgb', { r: num(v[0], 0), g: num(v[1], 0), b: num(v[2], 0) }) : p.hounsfield ? t('viewer.hu', { v: num(v, 0) }) : num(v, 0);

  const s = p.slice;
  const toScreen = (pt: [number, number]) => (s ? imageToScreen(pt[0], pt[1], size.w, size.h, s.columns, s.rows, p.view) : [0, 0]);
  const lines = [...p.measurements.map((m, i) => (editing?.i === i ? editing.m : m)).filter((m) => m.slice === p.index), ...(drawing ? [drawing] : longAxis ? [longAxis] : [])];
  // the finding marks' labels stay where their rings are: the measurements' labels keep clear of them
  for (const mk of p.marks ?? []) {
    if (!mk.label) continue;
    const [x, y] = toScreen(mk.point);
    const w = textWidth(mk.label);
    const [left, base] = mk.ai ? [x - 14 - w, y - 16] : [x + 15, y - 10];
    placed.push({ x0: left, y0: base - LABEL_ASCENT_PX, x1: left + w, y1: base - LABEL_ASCENT_PX + LABEL_LINE_PX });
  }
  // every measurement's number first, so the value labels keep clear of all of them
  const idsAt = lines.map((m) => {
    if (m.label === undefined) return null;
    const [x1, y1] = toScreen(m.a);
    const [x2, y2] = toScreen(m.b);
    return idAt(`M${m.label}`, Math.min(x1, x2) - 5, (x1 <= x2 ? y1 : y2) - 5);
  });
  const iop = p.orientation;
  const cal = p.calibration;
  const ps = cal?.pixelSpacing;
  /** The spacing a measurement is measured at (undefined: pixels), as the report measures it. */
  const spacingFor = (m: Measurement) => measurementSpacing(cal, measurementPoints(m));
  /** " (detector)" after a value in mm from a calibration that is not PixelSpacing. */
  const calNote = (sp: [number, number] | undefined) => (sp && cal?.pixelSpacingSource && cal.pixelSpacingSource !== 'pixel' ? ` ${t(`calibration.${cal.pixelSpacingSource}` as MessageKey)}` : '');
  // the scale bar is horizontal on screen: the spacing of the image axis lying that way
  const hps = ps ? horizontalSpacing(ps, p.view) : 0;
  const barMm = ps ? niceMm((size.w * 0.25) / p.view.zoom * hps) : 0;
  const barPx = ps ? (barMm / hps) * p.view.zoom : 0;
  // image coordinates -> screen (SVG matrix(a b c d e f): x' = a x + c y + e, y' = b x + d y + f)
  const imageTransform = (() => {
    if (!s) return undefined;
    const [m00, m01, m10, m11] = viewMatrix(p.view);
    const [e, f] = toScreen([0, 0]);
    const z = p.view.zoom;
    return `matrix(${z * m00} ${z * m10} ${z * m01} ${z * m11} ${e} ${f})`;
  })();
  const dirs = iop && iop.length === 6 ? screenDirections(iop, p.view) : null;

  return (
    <div className="viewport" ref={wrap} onContextMenu={(e) => e.preventDefault()}>
      <canvas
        ref={canvas}
        className={p.onPlace ? 'place' : editing || overHandle ? 'grab' : undefined}
        data-testid="viewport-canvas"
        role="img"
        aria-label={t('viewer.canvasLabel')}
        tabIndex={0}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        // the readout is of the pixel under the pointer: none once the pointer is elsewhere
        onPointerLeave={() => setProbe(null)}
      />
      <svg className="overlay" width={size.w} height={size.h} aria-hidden="true">
        {s
          ? p.overlays?.map((o) => (
              // drawn in image coordinates (edges 0..columns; its origin may lie outside the
              // image) under the view's transform, so a flipped or turned view turns it too
              <g key={o.group} transform={imageTransform}>
                <image className="overlay-plane" href={overlayImageUrl(o)} x={o.origin[1]} y={o.origin[0]} width={o.columns} height={o.rows} preserveAspectRatio="none" data-testid="overlay-plane" data-group={o.group} />
              </g>
            ))
          : null}
        {lines.map((m, i) => {
          const [x1, y1] = toScreen(m.a);
          const [x2, y2] = toScreen(m.b);
          // its number by its first point, as the panel and the report name it (OHIF's label), so
          // "M3" in a comment can be found on the image; none while it is being drawn
          const idPos = idsAt[i];
          const id = m.label !== undefined && idPos ? (
            <text x={idPos.x} y={idPos.y} textAnchor="end" className="measure-id" data-testid="measure-id">{`M${m.label}`}</text>
          ) : null;
          if (m.kind === 'ellipse') {
            // a drawn ROI carries the statistics taken when it was made; only the one being drawn is measured per frame
            const vs = p.measured ?? s;
            const esp = spacingFor(m);
            const st = m.stats ?? (vs ? ellipseStats(scalarValues(vs), vs.rows, vs.columns, m.a, m.b, esp) : null);
            const unit = p.hounsfield ? ' HU' : '';
            // on a colour slice the numbers are its luminance, and say so
            const luma = m.luminance ?? (!m.stats && s?.samples === 3);
            const rows = st ? [`${t(luma ? 'roi.meanLuminance' : 'roi.mean')} ${num(st.mean, 1)}${unit} ± ${num(st.sd, 1)}`, `${t('roi.range')} ${num(st.min, 0)} … ${num(st.max, 0)}${unit}`, `${t('roi.area')} ${num(st.area, st.areaUnit === 'mm2' ? 1 : 0)} ${st.areaUnit === 'mm2' ? `mm²${calNote(esp)}` : 'px²'}`] : [];
            // beside the ellipse: right of it, or left of it where the right side has no room
            const at = place(rows, Math.min(x1, x2), Math.max(x1, x2), Math.min(y1, y2));
            return (
              <g key={i} className="measure">
                {id}
                <ellipse {...ellipseOf([x1, y1], [x2, y2])} />
                {st ? (
                  <text x={at.x} y={at.y} textAnchor={at.anchor} data-testid="roi-label" data-mean={st.mean} data-sd={st.sd} data-area={st.area} data-n={st.n}>
                    {rows.map((r, k) => <tspan key={k} x={at.x} dy={k ? `${LABEL_LINE_PX}px` : '0'}>{r}</tspan>)}
                  </text>
                ) : null}
              </g>
            );
          }
          if (m.kind === 'bidirectional' && m.c && m.d) {
            const [x3, y3] = toScreen(m.c);
            const [x4, y4] = toScreen(m.d);
            const sp = spacingFor(m);
            const long = lengthOf(m.a, m.b, sp);
            const short = lengthOf(m.c, m.d, sp);
            const label = `${num(long.value, 1)} × ${num(short.value, 1)} ${long.unit}${calNote(sp)}`;
            const at = place([label], Math.max(x1, x2), Math.max(x1, x2), Math.min(y1, y2) - 6);
            return (
              <g key={i} className="measure">
                {id}
                <line x1={x1} y1={y1} x2={x2} y2={y2} />
                <line x1={x3} y1={y3} x2={x4} y2={y4} />
                {[[x1, y1], [x2, y2], [x3, y3], [x4, y4]].map(([x, y], k) => <circle key={k} cx={x} cy={y} r={3} />)}
                <text x={at.x} y={at.y} textAnchor={at.anchor} data-testid="bidirectional-label" data-long={long.value} data-short={short.value}>{label}</text>
              </g>
            );
          }
          const sp = spacingFor(m);
          const len = lengthOf(m.a, m.b, sp);
          const text = `${num(len.value, 1)} ${len.unit}${calNote(sp)}`;
          const at = place([text], x2, x2, y2 - 6);
          return (
            <g key={i} className="measure">
              {id}
              <line x1={x1} y1={y1} x2={x2} y2={y2} />
              <circle cx={x1} cy={y1} r={3} />
              <circle cx={x2} cy={y2} r={3} />
              <text x={at.x} y={at.y} textAnchor={at.anchor} data-testid="measure-label">
                {text}
              </text>
            </g>
          );
        })}
        {(p.marks ?? []).map((mk, i) => {
          const [x, y] = toScreen(mk.point);
          return (
            <g key={`mark-${i}`} className={`mark${mk.ai ? ` ai${mk.key ? ' key' : ''}` : ''}`} data-testid={mk.ai ? 'finding-mark' : 'added-mark'} data-label={mk.label}>
              <circle cx={x} cy={y} r={mk.ai ? 16 : 12} />
              {/* the model's label above left of its ring: a measurement across the lesion puts its own to the right */}
              {mk.ai ? <text x={x - 14} y={y - 16} textAnchor="end">{mk.label}</text> : <text x={x + 15} y={y - 10}>{mk.label}</text>}
            </g>
          );
        })}
        {dirs && s ? (
          <g className="orient" data-testid="orientation">
            <text x={8} y={size.h / 2} data-testid="orient-left">{directionLetters(dirs.right.map((x) => -x))}</text>
            <text x={size.w - 8} y={size.h / 2} textAnchor="end" data-testid="orient-right">{directionLetters(dirs.right)}</text>
            <text x={size.w / 2} y={18} textAnchor="middle" data-testid="orient-top">{directionLetters(dirs.down.map((x) => -x))}</text>
            <text x={size.w / 2} y={size.h - 30} textAnchor="middle" data-testid="orient-bottom">{directionLetters(dirs.down)}</text>
          </g>
        ) : null}
        {/* one scale for the whole image: not where the spacing holds only in regions (ultrasound) */}
        {ps && s && !cal?.pixelSpacingRegions ? (
          <g className="scalebar">
            <line x1={size.w - 16 - barPx} x2={size.w - 16} y1={size.h - 52} y2={size.h - 52} />
            <text x={size.w - 16} y={size.h - 58} textAnchor="end">{`${barMm} mm${calNote(ps)}`}</text>
          </g>
        ) : null}
      </svg>
      <div className="corner tl" data-testid="corner-tl">{p.corners.tl.map((l, i) => <div key={i}>{l}</div>)}</div>
      <div className="corner tr" data-testid="corner-tr">{p.corners.tr.map((l, i) => <div key={i}>{l}</div>)}</div>
      <div className="corner bl" data-testid="corner-bl">
        {p.corners.bl.map((l, i) => <div key={i}>{l}</div>)}
        {probe ? <div data-testid="probe">{`(${probe.x}, ${probe.y}) ${probeText(probe.v)}${p.measured ? ` ${t('viewer.probeOfSlice')}` : ''}`}</div> : null}
      </div>
      <div className="corner br" data-testid="corner-br">{p.corners.br.map((l, i) => <div key={i}>{l}</div>)}</div>
      {longAxis && !drawing ? <div className="measure-hint" role="status" data-testid="bidirectional-hint">{t('measure.shortAxisHint')}</div> : null}
      {p.heat && p.heatCaveat ? <div className="heat-caveat" role="note" data-testid="heat-caveat">{p.heatCaveat}</div> : null}
      {gpuLost ? <div className="slice-error" role="status" data-testid="gpu-lost">{t('viewer.contextLost')}</div> : null}
      {p.error ? <div className="slice-error" role="alert" data-testid="slice-error">{t('viewer.sliceError', { i: p.sliceNumber ? p.sliceNumber(p.index) : p.index + 1, message: p.error })}</div> : null}
    </div>
  );
}
