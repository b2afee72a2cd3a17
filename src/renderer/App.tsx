/**
 * The viewer: study browser, the viewport with its tools, the AI second reader (analysis with
 * progress, heatmap overlay, score strip, findings and review), dialogs. Talks only to the
 * contract (src/shared/api.ts) through getApi(): Electron's preload or the browser bridge.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ProviderReport, SeriesAnalysis } from '../shared/analysis';
import type { ExplainResult, ModelInfo, OpenResult, Review, SeriesInfo, UnusedFile } from '../shared/api';
import { CAM_METHOD_NAMES } from '../shared/api';
import { CAM_METHOD_LABELS } from '../shared/cam';
import { COLORMAPS, DEFAULT_OVERLAY } from '../shared/colormap';
import type { ColormapName } from '../shared/colormap';
import type { OverlayPlane, PixelCalibration, StudySummary } from '../shared/dicom';
import { measurementPoints, type DrawnMeasurement } from '../shared/roi';
import { measurementSpacing, pickCalibration } from '../shared/dicom';
import { personNameText } from '../shared/dicom-text';
import { cosinesOfLetters } from '../shared/orientation';
import { findingLabelsOf } from '../shared/finding-labels';
import { addedFindingId, anchorOf, instanceKey, isAddedFinding, isUnreviewed, MEASUREMENTS_ID, reviewerFindings, SIGN_OFF_ID, signOffOf } from '../shared/review';
import { findingStops, nextStop } from './viewer/finding-nav';
import type { Preferences } from '../shared/settings';
import { CT_PRESETS } from '../shared/presets';
import type { SliceData } from './api/client';
import { ApiError, getApi, loadSlice } from './api/client';
import { ExportDialog } from './components/ExportDialog';
import { storedReviewer } from './components/reviewer-name';
import { useExpiringState } from './use-expiring-state';
import { PreferencesDialog } from './components/PreferencesDialog';
import { FindingsPanel, findingAt } from './components/FindingsPanel';
import { MeasurementsPanel } from './components/MeasurementsPanel';
import { ModelCardDialog } from './components/ModelCard';
import { ellipseStats, lengthOf } from '../shared/roi';
import { ScoreStrip, sliceScore } from './components/ScoreStrip';
import { StudyBrowser } from './components/StudyBrowser';
import { TagBrowser } from './components/TagBrowser';
import { useI18n } from './i18n/i18n';
import type { MessageKey } from './i18n/messages';
import { LANGUAGES } from './i18n/messages';
import type { Language } from './i18n/messages';
import { fitZoom, flipView, isFitted, rotateView, screenToImage } from './viewer/geometry';
import { reformat, reformatPoint } from './viewer/mpr';
import { labelNumber, nextLabel } from './viewer/measure-labels';
import { SLAB_MODES, slabChoices, slabImage, slabRange, slabSlices, type SlabMode } from './viewer/slab';
import { isColourPhotometric, sliceWindow, storedOrConventionalWindow } from './viewer/window';
import { scalarValues } from './viewer/slice';
import { planesOf, type Plane } from './viewer/mpr';
import type { ReformatPlane } from '../shared/reformat';
import { sliceNumber, sliceNumbers, stackReadingStep, type Anatomical, type ReadingStep } from '../shared/planes';
import { reformatBlocked, reformatReadingStep } from '../shared/reformat';
import type { HeatState, ViewState } from './viewer/types';
import type { Bindings, Measurement, Tool } from './viewer/Viewport';
import { Viewport } from './viewer/Viewport';

const api = getApi();
const STATE_KEY = 'resight.viewer';
const TOOLS: Tool[] = ['wl', 'pan', 'zoom', 'scroll', 'length', 'bidirectional', 'ellipse', 'probe'];
const TOOL_KEY: Record<Tool, MessageKey> = { wl: 'tools.wl', pan: 'tools.pan', zoom: 'tools.zoom', length: 'tools.length', bidirectional: 'tools.bidirectional', probe: 'tools.probe', scroll: 'tools.scroll', ellipse: 'tools.ellipse' };

/**
 * The most slice data the viewer keeps, in bytes: 1.5 GiB (3,000 slices of 512 x 512 int16), or
 * what localStorage 'resight.sliceBudgetMiB' says (a small machine; the tests).
 */
function sliceBudgetBytes(): number {
  const mib = Number(localStorage.getItem('resight.sliceBudgetMiB'));
  return (Number.isFinite(mib) && mib > 0 ? mib : 1536) * 1024 * 1024;
}
const sliceBytes = (s: SliceData) => (s.samples === 3 ? s.rgb.byteLength : s.values.byteLength);

interface Persisted {
  seriesId?: string;
  index?: number;
  view?: ViewState;
  heatOn?: boolean;
  colormap?: ColormapName;
  opacity?: number;
  threshold?: number;
  viewed?: Record<string, number[]>;
  bindings?: Bindings;
  /** Per series, the axial measurements (each names its instance, so it is put back where it was drawn). */
  measurements?: Record<string, Measurement[]>;
  /** Per series, the measurements on its coronal/sagittal reformats, by plane (each names the stack's slice count it was drawn on). */
  reformatMeasurements?: Record<string, ReformatMeasured>;
  /** Per series, the highest measurement number it has had (a deleted M3 is never drawn again as M3). */
  measureHigh?: Record<string, number>;
  /** The stack was shown fitted: a reload fits it again to the window it opens in, instead of keeping a zoom made for another size. */
  fitted?: boolean;
}
/** A series' measurements on its reformats, by plane (their `slice` is the reformat's position). */
type ReformatMeasured = Partial<Record<ReformatPlane, Measurement[]>>;
/**
 * A toolbar button clicked with the mouse does not keep the focus (OHIF's do not): it would take
 * the viewer's keys, Space pressing it again instead of resetting the view. The keyboard still
 * reaches every button by Tab.
 */
function keepFocusOffButtons(e: { target: EventTarget; preventDefault(): void }): void {
  if ((e.target as HTMLElement).closest?.('button')) e.preventDefault();
}

/** Keys typed here are text, not viewer shortcuts (a checkbox or a slider keeps the shortcuts working). */
const TEXT_INPUTS = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', 'date', 'time', 'datetime-local', 'month', 'week']);
export function typingTarget(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.tagName !== 'string') return false;
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable) return true;
  return el.tagName === 'INPUT' && TEXT_INPUTS.has(((el as HTMLInputElement).type || 'text').toLowerCase());
}
/** Space presses this element (a button, a checkbox, a disclosure), so it is not the viewer's reset. */
export function spacePresses(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.tagName !== 'string') return false;
  if (el.tagName === 'BUTTON' || el.tagName === 'SUMMARY' || el.getAttribute('role') === 'button') return true;
  return el.tagName === 'INPUT' && ['checkbox', 'radio', 'button', 'submit', 'reset'].includes(((el as HTMLInputElement).type || '').toLowerCase());
}

/** What Tab can reach inside `box`, in document order. */
function focusables(box: HTMLElement): HTMLElement[] {
  return Array.from(box.querySelectorAll<HTMLElement>('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')).filter((el) => !(el as HTMLButtonElement).disabled);
}

const loadPersisted = (): Persisted => {
  try {
    return JSON.parse(localStorage.getItem(STATE_KEY) ?? '{}') as Persisted;
  } catch {
    return {};
  }
};

type Progress = { done: number; total: number; rate: number; eta: number | null };

/** A stored axial measurement and the one on screen (re-numbered for the slice order now) are the same: its instance and its drawn points. */
const sameMeasurement = (a: Measurement, b: Measurement) => a.instance === b.instance && a.a === b.a && a.b === b.b;

/** The order of the plane buttons: as radiologists name the planes, whichever one was acquired. */
const PLANE_ORDER: readonly (Anatomical | 'acquired')[] = ['acquired', 'axial', 'coronal', 'sagittal', 'oblique'];

export function App() {
  const { t, num, lang, setLang, cls, err } = useI18n();
  // for listeners set up once: the translation functions of the language chosen now
  const i18nRef = useRef({ t, err });
  i18nRef.current = { t, err };
  const saved = useRef(loadPersisted());
  const [error, setError] = useState<string | null>(null);
  const [studies, setStudies] = useState<StudySummary[]>([]);
  const [unused, setUnused] = useState<UnusedFile[]>([]);
  const [seriesId, setSeriesId] = useState<string | null>(null);
  const [info, setInfo] = useState<SeriesInfo | null>(null);
  const [index, setIndex] = useState(0);
  const [slice, setSlice] = useState<SliceData | null>(null);
  const cache = useRef(new Map<number, SliceData>());
  const [view, setView] = useState<ViewState>({ zoom: 1, panX: 0, panY: 0, center: 40, width: 400, invert: false });
  const [vpSize, setVpSize] = useState({ w: 0, h: 0 });
  const [bindings, setBindings] = useState<Bindings>(saved.current.bindings ?? { left: 'wl', middle: 'pan', right: 'zoom' });
  // Axial measurements, per series: the one store (persisted). Each names its slice's instance and
  // is shown at that instance's slice number now, so it follows a re-assembly and survives a reload,
  // a series switch and a trip to the reformats. Measurements on a coronal/sagittal reformat are
  // kept per series and plane (persisted too), each with the slice count of the stack it was
  // drawn on: a stack re-assembled with more slices is another reformat, where they are not shown.
  // Both are reported (core/report/reformat-measure.ts measures a reformat's in the patient).
  const [axialMeasured, setAxialMeasured] = useState<Record<string, Measurement[]>>(saved.current.measurements ?? {});
  const [reformatMeasured, setReformatMeasured] = useState<Record<string, ReformatMeasured>>(saved.current.reformatMeasurements ?? {});
  // the highest measurement number each series has had (axial and reformats): numbers only count up
  const measureHigh = useRef<Record<string, number>>({ ...(saved.current.measureHigh ?? {}) });
  // the stack's view as last seen (what a reload restores, whichever plane is on screen)
  const stackView = useRef<ViewState | null>(null);
  const stackFitted = useRef(false);
  // what "Clear measurements" took, for its Undo (one level; gone after a while, a new measurement or another series)
  const [cleared, setCleared] = useExpiringState<{ series: string; plane: Plane; items: Measurement[] }>(15_000);
  /** N or P found nothing further: said for a moment beside them. */
  const [navNote, setNavNote] = useExpiringState<'ai.noNext' | 'ai.noPrev'>(2500);
  // any move clears it: it spoke of the slice it was said on
  useEffect(() => setNavNote(null), [index, seriesId]);
  const [renderer, setRenderer] = useState<string>('');
  const [model, setModel] = useState<ModelInfo | null>(null);
  const [analysis, setAnalysis] = useState<SeriesAnalysis | null>(null);
  const [provider, setProvider] = useState<ProviderReport | null>(null);
  const [job, setJob] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [aiError, setAiError] = useState<string | null>(null);
  const [reviews, setReviews] = useState<Review[]>([]);
  const reviewsRef = useRef(reviews);
  reviewsRef.current = reviews;
  const [heatOn, setHeatOn] = useState(saved.current.heatOn ?? false);
  const [heatClass, setHeatClass] = useState<string>('');
  const [layer, setLayer] = useState<string>('');
  const [method, setMethod] = useState<(typeof CAM_METHOD_NAMES)[number]>('gradcam');
  const [colormap, setColormap] = useState<ColormapName>(saved.current.colormap ?? DEFAULT_OVERLAY.colormap);
  const [opacity, setOpacity] = useState(saved.current.opacity ?? DEFAULT_OVERLAY.opacity);
  const [threshold, setThreshold] = useState(saved.current.threshold ?? DEFAULT_OVERLAY.threshold);
  // model units by default (the explain issue's point): a weak map reads weak, not rescaled to look
  // as hot as a lesion's; "per slice" stretches each map to its own maximum
  const [scaleMode, setScaleMode] = useState<'slice' | 'model'>('model');
  const [explained, setExplained] = useState<(ExplainResult & { forSlice: number; forSeries: string }) | null>(null);
  const seriesMax = useRef(new Map<string, number>());
  // the slices looked at, with the series they belong to (so a switch never files one series'
  // slices under another); every series' list is kept in viewedBySeries and persisted
  const [viewedState, setViewedState] = useState<{ series: string | null; slices: Set<number> }>({ series: null, slices: new Set() });
  const viewedBySeries = useRef<Record<string, number[]>>(saved.current.viewed ?? {});
  const [dialog, setDialog] = useState<'help' | 'model' | 'tags' | 'export' | 'prefs' | null>(null);
  /** "Add finding": the class being placed; the next click on the image says where it is. */
  const [placing, setPlacing] = useState<string | null>(null);
  const [prefs, setPrefs] = useState<Preferences>({});
  const [cine, setCine] = useState(false);
  // frames per second chosen for cine; null: the series' own rate (its files'), else 12
  const [cineChoice, setCineChoice] = useState<number | null>(null);
  // DICOM overlay planes (60xx) of the axial slice on screen, shown unless the reviewer hides them (O)
  const [showOverlays, setShowOverlays] = useState(true);
  const [overlays, setOverlays] = useState<{ key: string; planes: OverlayPlane[] } | null>(null);
  const overlayCache = useRef(new Map<string, OverlayPlane[]>());
  // the stack as acquired, or a reformat of it (a row or a column of every slice)
  const [plane, setPlane] = useState<Plane>('stack');
  // a thick slab of the axial stack (MIP, MinIP, mean) instead of the single slice; off = null
  const [slabMode, setSlabMode] = useState<SlabMode | null>(null);
  const [slabMm, setSlabMm] = useState(10);
  const [mprIndex, setMprIndex] = useState(256);
  const [loaded, setLoaded] = useState(0);
  // How many slices of this series stay in memory: all while they fit the budget (a reformat
  // needs them all), else this many nearest the shown one. Null until the first slice says how
  // big slices are.
  const capacity = useRef<number | null>(null);
  const [partial, setPartial] = useState(false);
  // where the kept window of a series too large to keep whole is centred (moves as one scrolls)
  const [center, setCenter] = useState(0);
  const autoWindowPending = useRef(false);
  // bumped when the shown series is re-assembled by the engine (more of its files were opened):
  // same id, other slices, so everything of it is fetched again
  const [seriesEpoch, setSeriesEpoch] = useState(0);
  // the series whose saved slice and view are on screen (null: there is none to show); until
  // then nothing is saved, or a reload while the series loads would find defaults saved over them
  const [restored, setRestored] = useState<string | null | undefined>(undefined);
  const afterOpen = (r: OpenResult) => {
    // a series that opens cleanly first (a cut or odd file's series is one click away, not the welcome)
    const all = r.studies.flatMap((st) => st.series);
    const ids = [...all.filter((x) => !x.warnings.length), ...all.filter((x) => x.warnings.length)].map((x) => x.id);
    const current = seriesRef.current;
    if (current && ids.includes(current)) setSeriesEpoch((e) => e + 1);
    else if (ids[0]) setSeriesId(ids[0]);
  };
  // slices of this series that could not be loaded, with why: shown in the viewport in place of
  // the image (never the previous slice's image under the new slice number), and counted as
  // settled so a reformat does not wait for them for ever
  const [sliceErrors, setSliceErrors] = useState<ReadonlyMap<number, string>>(new Map());
  const failed = useRef(new Map<number, string>());

  const count = info?.slices.length ?? 0;
  const viewed = useMemo(() => (viewedState.series === seriesId ? viewedState.slices : new Set<number>()), [viewedState, seriesId]);
  const indexRef = useRef(index);
  indexRef.current = index;
  const seriesRef = useRef(seriesId);
  seriesRef.current = seriesId;
  const epochRef = useRef(seriesEpoch);
  epochRef.current = seriesEpoch;
  // counts jobs that ended (done, failed, cancelled, engine restart): a job reported running by an
  // answer that was on its way while one ended may be that one, and is not brought back
  const jobsEnded = useRef(0);
  /** A job ended: counted (above) and its progress cleared. */
  const endJob = () => {
    jobsEnded.current++;
    setJob(null);
    setProgress(null);
  };

  // the thresholds the shown findings were drawn at; the preference's only before an analysis
  const thresholds = analysis?.thresholds ?? model?.thresholds ?? {};

  // ---------------------------------------------------------------- start: studies and model
  useEffect(() => {
    (async () => {
      try {
        const list = await api.call('studies.list', {});
        setStudies(list.studies);
        // what the open before this page (command line, the shell's first open) could not use
        setUnused(list.unused);
        const first = list.studies[0]?.series[0]?.id;
        const want = saved.current.seriesId;
        const exists = list.studies.some((st) => st.series.some((s) => s.id === want));
        if (exists && want) setSeriesId(want);
        else if (first) setSeriesId(first);
        else setRestored(null);
      } catch (e) {
        setError(e instanceof ApiError && e.code.startsWith('BRIDGE') ? t('app.engineUnreachable') : (e as Error).message);
      }
      // preferences are optional: without them, the model card's defaults
      const pr = await api.call('settings.get', {}).catch(() => ({}) as Preferences);
      setPrefs(pr);
      if (pr.camMethod && pr.camMethod !== 'scorecam') setMethod(pr.camMethod);
      try {
        const m = await api.call('model.get', {});
        setModel(m);
        if (m.defaultLayer) setLayer(m.defaultLayer);
        if (pr.camLayer && m.camLayers?.includes(pr.camLayer)) setLayer(pr.camLayer);
        if (m.provider) setProvider(m.provider);
      } catch (e) {
        setModel({ available: false, reason: (e as Error).message });
      }
    })();
    const offs = [
      api.on('scan.progress', () => undefined),
      // analysis events of another series (one analysed before switching) are not this one's
      api.on('analysis.progress', (p) => p.seriesId === seriesRef.current && setProgress({ done: p.done, total: p.total, rate: p.slicesPerSecond, eta: p.etaSeconds })),
      api.on('analysis.done', (d) => {
        setProvider(d.provider);
        if (d.seriesId !== seriesRef.current) return;
        setAnalysis(d.analysis);
        endJob();
      }),
      api.on('engine.restarted', (d) => {
        endJob();
        // slices that failed while the engine was down are asked for again
        failed.current = new Map();
        setSliceErrors(new Map());
        setAiError(i18nRef.current.t('app.engineRestarted', { reason: d.reason }));
      }),
      api.on('analysis.failed', (d) => {
        if (d.seriesId !== seriesRef.current) return;
        // the user's own cancel is not a failure
        // in the language chosen now, not the one at start (the listeners are set up once)
        if (d.error.code !== 'CANCELLED') setAiError(i18nRef.current.t('ai.failed', { message: i18nRef.current.err(d.error) }));
        endJob();
      }),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  // open more (paths the engine was granted: the command line in browser mode, the dialog in Electron)
  const [openPath, setOpenPath] = useState('');
  const [openNote, setOpenNote] = useState<string | null>(null);
  const [scan, setScan] = useState<{ done: number; total: number } | null>(null);
  useEffect(() => api.on('scan.progress', (p) => setScan({ done: p.done, total: p.total })), []);
  const openStudies = async () => {
    setError(null);
    setOpenNote(null);
    const path = openPath.trim();
    if (!path) return;
    try {
      const r = await api.call('studies.open', { paths: [path] });
      opened(r, path);
      const list = await api.call('studies.list', {});
      setStudies(list.studies);
      afterOpen(r);
    } catch (e) {
      // said under the box it was typed in, in the user's words: a path not found, or outside the
      // folders this session may read (the engine's text, for anything else)
      const code = e instanceof ApiError ? e.code : '';
      setOpenNote(code === 'FILE_UNREADABLE' ? t('browser.openNotFound', { path }) : code === 'ACCESS_DENIED' ? t('browser.openDenied', { path }) : t('browser.openFailed', { path, message: (e as Error).message }));
    } finally {
      setScan(null);
    }
  };
  /**
   * What an open found, said where it was asked: nothing usable is a note naming the path and
   * how many files were passed over (not silence), and the files not used add up across opens
   * (each open used to replace the list, so an empty folder opened last hid the others' reasons).
   */
  const opened = (r: OpenResult, path: string) => {
    setUnused((prev) => [...prev.filter((u) => !r.unused.some((x) => x.file === u.file)), ...r.unused]);
    const series = r.studies.reduce((n, st) => n + st.series.length, 0);
    setOpenNote(series ? null : r.filesScanned ? t('browser.nothingUsable', { path, n: r.filesScanned }) : t('browser.nothingFound', { path }));
  };

  // ---------------------------------------------------------------- series selection
  // nothing of the previous series may stay on screen or take decisions while this one loads: a
  // layout effect, so no frame is painted with the new series' name over the old one's findings
  useLayoutEffect(() => {
    if (!seriesId) return;
    cache.current = new Map();
    failed.current = new Map();
    capacity.current = null;
    setPartial(false);
    setSliceErrors(new Map());
    setLoaded(0);
    setSlice(null);
    setExplained(null);
    setPlacing(null);
    // cine belongs to the series it was started on: the next opens still, at its own rate
    setCine(false);
    setCineChoice(null);
    // every series opens on its stack: a reformat of the last one may not exist here (no geometry)
    setPlane('stack');
    setInfo(null);
    setAnalysis(null);
    setReviews([]);
    setJob(null);
    setProgress(null);
    setAiError(null);
  }, [seriesId, seriesEpoch]);
  useEffect(() => {
    if (!seriesId) return;
    let stop = false;
    (async () => {
      try {
        const si = await api.call('series.get', { seriesId });
        if (stop) return;
        setInfo(si);
        const restored = saved.current.seriesId === seriesId ? saved.current : {};
        // a series opens where reading starts (an axial stack's top slice), as OHIF and Weasis open
        // a stack on its first image; a reload where the reviewer was
        const first = stackReadingStep(si.series.geometry) === -1 ? si.slices.length - 1 : 0;
        const start = Math.min(si.slices.length - 1, Math.max(0, restored.index ?? first));
        setIndex(start);
        const w = storedOrConventionalWindow(si.windows, si.series.modality, isColourPhotometric(si.series.photometric));
        // no stored window and not a grey CT: the first slice shown sets it (its own range; a
        // colour image's full range). Until then 128/256, which is already a colour image's identity
        autoWindowPending.current = !w && !restored.view;
        // a view saved fitted is fitted again (zoom 0) to this window, which may not be the size it was saved at
        setView(restored.view ? (restored.fitted ? { ...restored.view, zoom: 0 } : restored.view) : { zoom: 0, panX: 0, panY: 0, center: w?.center ?? 128, width: w?.width ?? 256, invert: si.series.photometric === 'MONOCHROME1' });
        setViewedState({ series: seriesId, slices: new Set(viewedBySeries.current[seriesId] ?? []) });
        setRestored(seriesId);
        const ended = jobsEnded.current;
        const [a, r] = await Promise.all([api.call('analysis.get', { seriesId }), api.call('review.get', { seriesId })]);
        if (stop) return;
        // the reviewer may have started an analysis or decided something while these were on
        // their way: what happened meanwhile wins over the older answers
        setAnalysis((cur) => cur ?? a.analysis);
        if (jobsEnded.current === ended) setJob((cur) => cur ?? a.running);
        setReviews((cur) => [...r.reviews.filter((x) => !cur.some((c) => c.findingId === x.findingId)), ...cur]);
      } catch (e) {
        setError((e as Error).message);
      }
    })();
    return () => {
      stop = true;
    };
  }, [seriesId, seriesEpoch]);

  // progressive loading: the shown slice first, then outwards from it
  useEffect(() => {
    // the previous series' info (and index) until this one's series.get answers: its slice
    // numbers mean nothing here (a 1-slice series has no slice 30)
    if (!seriesId || !info || info.series.id !== seriesId) return;
    const ctrl = new AbortController();
    const map = cache.current;
    const n = info.slices.length;
    const from = indexRef.current;
    const order: number[] = [];
    for (let d = 0; d < n; d++) {
      if (from + d < n) order.push(from + d);
      if (d && from - d >= 0) order.push(from - d);
    }
    let next = 0;
    const worker = async () => {
      // a series too large to keep whole: only the `capacity` slices nearest the centre
      while (next < Math.min(order.length, capacity.current ?? Infinity) && !ctrl.signal.aborted) {
        const i = order[next++];
        if (cache.current.has(i)) continue;
        try {
          const s = await loadSlice(api, seriesId, i, ctrl.signal);
          // the series may have changed while the slice was on its way: never mix series
          if (ctrl.signal.aborted || cache.current !== map) return;
          keep(map, i, s, n);
          if (i === indexRef.current) setSlice(s);
        } catch (e) {
          if (ctrl.signal.aborted || cache.current !== map) return;
          sliceFailed(i, (e as Error).message);
        }
      }
    };
    void Promise.all([worker(), worker(), worker(), worker()]);
    return () => ctrl.abort();
    // when the series changes, or the kept window of a large one moves; scrolling reuses the cache
  }, [seriesId, info, center]);

  /** Keep slice i (and count it); past the capacity, drop the slices farthest from the one on screen. */
  const keep = (map: Map<number, SliceData>, i: number, s: SliceData, n: number) => {
    map.set(i, s);
    if (capacity.current === null) {
      const fits = Math.floor(sliceBudgetBytes() / Math.max(1, sliceBytes(s)));
      capacity.current = fits >= n ? Infinity : Math.max(8, fits);
      setPartial(fits < n);
    }
    while (map.size > capacity.current) {
      let far = -1;
      for (const k of map.keys()) if (far < 0 || Math.abs(k - indexRef.current) > Math.abs(far - indexRef.current)) far = k;
      map.delete(far);
    }
    setLoaded(map.size + failed.current.size);
  };

  const sliceFailed = (i: number, message: string) => {
    if (failed.current.has(i)) return;
    failed.current.set(i, message);
    setSliceErrors(new Map(failed.current));
    setLoaded(cache.current.size + failed.current.size);
  };
  useEffect(() => {
    const map = cache.current;
    const ctrl = new AbortController();
    const s = map.get(index);
    if (s) setSlice(s);
    else {
      // not loaded (yet, or it failed): an empty viewport, not the last slice under this number
      setSlice(null);
      if (seriesId && info && info.series.id === seriesId && !failed.current.has(index))
        void loadSlice(api, seriesId, index, ctrl.signal)
          .then((x) => {
            if (ctrl.signal.aborted || cache.current !== map) return;
            keep(map, index, x, info.slices.length);
            if (indexRef.current === index) setSlice(x);
          })
          .catch((e: Error) => {
            if (!ctrl.signal.aborted && cache.current === map) sliceFailed(index, e.message);
          });
    }
    // a large series' kept window follows the reviewer: re-centred a quarter of it away
    const cap = capacity.current;
    if (cap !== null && cap !== Infinity && Math.abs(index - center) > cap / 4) setCenter(index);
    // a slice counts as viewed once shown for 150 ms
    const timer = setTimeout(() => setViewedState((v) => (v.series !== seriesId || v.slices.has(index) ? v : { series: v.series, slices: new Set(v.slices).add(index) })), 150);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [index, seriesId, info]);

  // overlay planes: asked for slice by slice, only in a series whose files have any (the scan
  // says so), and kept, so paging back and forth asks once per slice
  const seriesHasOverlays = info?.series.id === seriesId && info?.series.overlays === true;
  // keyed by the series' epoch too: reopened with more files, its slice numbers mean other slices
  const overlayKey = `${seriesId}\n${seriesEpoch}\n${index}`;
  useEffect(() => {
    if (!seriesId || !seriesHasOverlays) return;
    const key = overlayKey;
    const cache = overlayCache.current;
    const known = cache.get(key);
    if (known) return setOverlays({ key, planes: known });
    let stop = false;
    api.call('slice.overlays', { seriesId, slice: index }).then(
      (r) => {
        cache.set(key, r.overlays);
        // the last 64 slices' planes: paging back and forth asks once, a long series stays small
        for (const old of cache.keys()) {
          if (cache.size <= 64) break;
          cache.delete(old);
        }
        if (!stop) setOverlays({ key, planes: r.overlays });
      },
      // an overlay that cannot be read leaves the image as it is: the slice itself says if it is broken
      () => {
        if (!stop) setOverlays({ key, planes: [] });
      },
    );
    return () => {
      stop = true;
    };
  }, [seriesId, seriesHasOverlays, index, overlayKey]);
  const overlaysShown = plane === 'stack' && showOverlays && seriesHasOverlays && overlays?.key === overlayKey ? overlays.planes : undefined;

  // ---------------------------------------------------------------- MPR (reformats of the stack)
  const sliceSpacing = info?.series.geometry.sliceSpacing ?? info?.series.sliceSpacing ?? 0;
  const iop = info?.series.geometry.orientation?.length === 6 ? info.series.geometry.orientation : undefined;
  // the anatomical plane of the stack and of each reformat, from the acquisition's orientation
  const planes = useMemo(() => (iop ? planesOf(iop) : null), [iop]);
  // the way the reader goes through each plane (shared/planes.ts): an axial stack head to feet, so
  // the wheel down, ↓ and the Scroll tool move toward the feet, and the strip and the findings list
  // start at the head; a reformat's positions front to back or right to left, as they are numbered
  const stackStep = useMemo(() => stackReadingStep(info?.series.geometry), [info]);
  // the stack's slice numbers as the reader sees them: 1 at the top, rising as they scroll down
  const stackNumber = useCallback((i: number) => sliceNumber(i, count, stackStep), [count, stackStep]);
  // slice i is a frame of a multi-frame file: its frames share one InstanceNumber
  const multiFrame = useCallback(
    (i: number) => {
      const s = info?.slices[i];
      return !!s && (info?.series.instances.find((x) => x.sopInstanceUid === s.sopInstanceUid)?.frames ?? 1) > 1;
    },
    [info],
  );
  // a slice's own InstanceNumber, what a PACS shows (none for a multi-frame file's frames)
  const imageNumber = useCallback((i: number) => (multiFrame(i) ? undefined : info?.slices[i]?.instanceNumber), [info, multiFrame]);
  const planeStep: ReadingStep = plane === 'stack' ? stackStep : reformatReadingStep(plane, iop);
  /** Why this series has no reformats, or null: they need two or more evenly spaced slices sorted by position, with orientation and pixel spacing, all kept in memory. */
  const mprBlocked: MessageKey | null = partial
    ? 'viewer.mprTooLarge'
    : !info || reformatBlocked({ slices: count, orientation: iop, pixelSpacing: info.series.pixelSpacing, pixelSpacingSource: info.series.pixelSpacingSource, sortedBy: info.series.geometry.sortedBy, uniform: info.series.geometry.uniform, sliceSpacing })
      ? 'viewer.mprNoGeometry'
      : null;
  // ---------------------------------------------------------------- thick slab (of the plane on screen)
  // the step between the plane's positions: the slices' spacing on the stack, the pixel spacing
  // across a reformat (a coronal slab of an axial CT combines its neighbouring rows)
  const ps0 = info?.series.pixelSpacing;
  const slabStep = plane === 'stack' ? sliceSpacing : ps0 ? (plane === 'row' ? ps0[0] : ps0[1]) : 0;
  const planeCount = plane === 'stack' ? count : info ? (plane === 'row' ? info.series.rows : info.series.columns) : 0;
  const planeAt = plane === 'stack' ? index : mprIndex;
  // the thicknesses this plane can give (whole positions), and the one chosen: a thickness that
  // would be one position here (5 mm of 5 mm slices) takes the thinnest real slab instead
  const slabOptions = useMemo(() => (slabStep > 0 ? slabChoices(slabStep) : []), [slabStep]);
  const slabChoice = slabOptions.find((c) => c.slices === slabSlices(slabMm, slabStep)) ?? slabOptions[0];
  const [slabFrom, slabTo] = slabMode && slabChoice ? slabRange(planeAt, planeCount, slabChoice.mm, slabStep) : [planeAt, planeAt];
  // which of the slab's slices are in: the slab is made again when one arrives, not at every slice
  // the series loads elsewhere (a 30 mm slab of thin slices is 50 slices to combine)
  let slabIn = '';
  if (plane === 'stack') for (let k = slabFrom; k <= slabTo; k++) slabIn += cache.current.has(k) ? '1' : '0';
  const slabbed = useMemo(() => {
    // on the slice on screen, once it is there (never a slab of its neighbours alone)
    // (the cache, not the `slice` state: that follows the index a render later, and a slab made
    // again then would be computed and uploaded twice per step)
    if (plane !== 'stack' || !slabMode || slabFrom >= slabTo || !cache.current.has(index)) return null;
    const made = slabImage((k) => cache.current.get(k), slabFrom, slabTo, slabMode);
    if (!made) return null;
    // how much anatomy it spans, from the slices' own positions (a gap in the series widens it)
    const [a, b] = [info?.slices[slabFrom]?.location, info?.slices[slabTo]?.location];
    const mm = a !== undefined && b !== undefined ? Math.abs(b - a) + sliceSpacing : (slabTo - slabFrom + 1) * sliceSpacing;
    return { ...made, mode: slabMode, from: slabFrom, to: slabTo, mm };
  }, [plane, slabMode, slabFrom, slabTo, slabIn, index, info, sliceSpacing]);

  const mpr = useMemo(() => {
    if (plane === 'stack' || !info || loaded < count || mprBlocked || !iop || !info.series.pixelSpacing) return null;
    const ps = info.series.pixelSpacing;
    // a slice that could not be loaded is a blank (zero) slice in the reformat, not a reformat that never comes
    const blank = { rows: info.series.rows, columns: info.series.columns, samples: 1 as const, values: new Float32Array(info.series.rows * info.series.columns) };
    const stack = Array.from({ length: count }, (_, k) => cache.current.get(k) ?? (failed.current.has(k) ? blank : undefined));
    const base = reformat(plane, stack, mprIndex, ps, sliceSpacing, iop);
    if (!base || !slabMode || slabFrom >= slabTo) return base;
    // a slab of the reformat: its neighbouring positions combined (`plain` is the position itself,
    // which the probe and ROIs read)
    const made = slabImage((j) => (j === mprIndex ? base.slice : reformat(plane, stack, j, ps, sliceSpacing, iop)?.slice), slabFrom, slabTo, slabMode);
    return made ? { ...base, slice: made.slice, plain: base.slice, slab: { mode: slabMode, from: slabFrom, to: slabTo, mm: (slabTo - slabFrom + 1) * slabStep } } : base;
  }, [plane, info, loaded, count, mprIndex, mprBlocked, iop, sliceSpacing, slabMode, slabFrom, slabTo, slabStep]);
  // the position is kept within the reformat's (a plane opened before the series' first slice
  // was there keeps its opening guess, which a smaller series does not have; a measurement drawn
  // there would name a position the report refuses)
  useEffect(() => {
    if (mpr && mprIndex > mpr.count - 1) setMprIndex(mpr.count - 1);
  }, [mpr, mprIndex]);
  const shownSlice = plane === 'stack' ? (slabbed?.slice ?? slice) : (mpr?.slice ?? null);
  /** The number of position `i` of the plane on screen, from 1 in reading order (shared/planes.ts). */
  const planeCountNow = plane === 'stack' ? count : (mpr?.count ?? 0);
  const planeNumber = (i: number) => sliceNumber(i, planeCountNow, planeStep);
  /** A slab's first and last positions on the plane on screen, by their numbers, lower first. */
  const slabNumbers = (from: number, to: number) => {
    const [a, b] = sliceNumbers(from, to, planeCountNow, planeStep);
    return { from: a, to: b };
  };
  /** This series' axial measurements at their instances' slice numbers now: what the report takes, whatever plane is on screen. */
  const axialMeasurements = useMemo((): Measurement[] => {
    if (!seriesId || !info || info.series.id !== seriesId) return [];
    const at = new Map(info.slices.map((x, i) => [instanceKey(x), i]));
    return (axialMeasured[seriesId] ?? []).flatMap((m) => {
      const i = m.instance !== undefined ? at.get(m.instance) : undefined;
      return i === undefined ? [] : [{ ...m, slice: i }];
    });
  }, [axialMeasured, seriesId, info]);
  /** This series' measurements on the reformat on screen: those drawn on the stack as it is now. */
  const mprMeasured = useMemo((): Measurement[] => (seriesId && plane !== 'stack' ? (reformatMeasured[seriesId]?.[plane] ?? []).filter((m) => m.stack === count) : []), [reformatMeasured, seriesId, plane, count]);
  /** Change the measurements of the reformat on screen (`f` gets them as listed; those drawn on another stack of the series stay). */
  const setMprMeasured = (f: (ms: Measurement[]) => Measurement[]) => {
    if (!seriesId || plane === 'stack') return;
    const p = plane;
    setReformatMeasured((all) => {
      const mine = all[seriesId]?.[p] ?? [];
      return { ...all, [seriesId]: { ...all[seriesId], [p]: [...mine.filter((m) => m.stack !== count), ...f(mine.filter((m) => m.stack === count))] } };
    });
    measurementsChanged();
  };
  /** Every measurement of the series the report takes: the axial ones, then the reformats' (with their plane). */
  const reportedMeasurements = useMemo((): DrawnMeasurement[] => {
    const mpr = (['row', 'column'] as const).flatMap((p) => (seriesId ? (reformatMeasured[seriesId]?.[p] ?? []) : []).filter((m) => m.stack === count).map((m) => ({ ...m, plane: p })));
    const all: (Measurement & { plane?: ReformatPlane })[] = [...axialMeasurements, ...mpr];
    // in the order drawn (their numbers), whichever plane
    return all.map((m, i) => ({ kind: m.kind ?? 'length', slice: m.slice, ...(m.plane ? { plane: m.plane } : {}), a: m.a, b: m.b, ...(m.c && m.d ? { c: m.c, d: m.d } : {}), label: labelNumber(m, i) })).sort((x, y) => x.label - y.label);
  }, [axialMeasurements, reformatMeasured, seriesId, count]);
  /** What the viewport and panel show: the reformat's own, or the axial ones. */
  const measurements = plane === 'stack' ? axialMeasurements : mprMeasured;

  /**
   * The calibration of the image a measurement on position `i` of the plane on screen is made on:
   * a stack slice's own (ultrasound images of several depths), else its series' (PixelSpacing, or a
   * radiograph's detector spacing, or ultrasound regions); a reformat's square pixels.
   */
  const calibrationOf = (i: number): PixelCalibration | undefined => {
    if (plane !== 'stack') return mpr ? { pixelSpacing: mpr.pixelSpacing, pixelSpacingSource: 'pixel' } : undefined;
    return pickCalibration(info?.slices[i]) ?? pickCalibration(info?.series);
  };
  /** A measurement as drawn or edited, with what the panel shows measured (the report measures again from the file). */
  const measured = (m: Measurement): Measurement => {
    // the spacing that calibrates it, as the report takes it (inside one ultrasound region, or pixels)
    const cal = calibrationOf(m.slice);
    const ps = cal ? measurementSpacing(cal, measurementPoints(m)) : undefined;
    const source = ps && cal?.pixelSpacingSource && cal.pixelSpacingSource !== 'pixel' ? cal.pixelSpacingSource : undefined;
    // the axial slice's own values under a slab: the report measures the slice
    const s = plane === 'stack' ? slice : (mpr && 'plain' in mpr ? mpr.plain : shownSlice);
    // a colour slice is measured on its luminance, as the report measures it
    const stats = m.kind === 'ellipse' && s ? ellipseStats(scalarValues(s), s.rows, s.columns, m.a, m.b, ps) : null;
    // an axial measurement names its instance, so it follows it when slice numbers move; a
    // reformat's the stack it was drawn on (by its slice count)
    const ref = plane === 'stack' ? info?.slices[m.slice] : undefined;
    const { stats: _s, length: _l, shortAxis: _a, luminance: _y, calibration: _c, ...shape } = m;
    return {
      ...shape,
      ...(ref ? { instance: instanceKey(ref) } : {}),
      ...(plane !== 'stack' ? { stack: count } : {}),
      ...(source ? { calibration: source } : {}),
      ...(m.kind === 'ellipse' ? { ...(stats ? { stats } : {}), ...(s?.samples === 3 ? { luminance: true } : {}) } : { length: lengthOf(m.a, m.b, ps), ...(m.c && m.d ? { shortAxis: lengthOf(m.c, m.d, ps) } : {}) }),
    };
  };
  /**
   * The series' measurements (the report takes them all) changed: after a sign-off the viewer
   * records it (shared/review.ts MEASUREMENTS_ID), so the sign-off goes stale as after a decision.
   */
  function measurementsChanged() {
    // the reviews as they are now (a ref: a handler's render may predate the sign-off's reply)
    if (signOffOf(reviewsRef.current)?.current) void decide(MEASUREMENTS_ID, 'edited');
  }
  /** Clear every measurement of the series (or of the reformat), keeping them for Undo. */
  const clearMeasurements = () => {
    if (!seriesId || !measurements.length) return;
    if (plane === 'stack') {
      setCleared({ series: seriesId, plane, items: axialMeasured[seriesId] ?? [] });
      setAxialMeasured((all) => ({ ...all, [seriesId]: [] }));
      measurementsChanged();
    } else {
      setCleared({ series: seriesId, plane, items: mprMeasured });
      setMprMeasured(() => []);
    }
  };
  const undoClear = () => {
    if (!cleared || cleared.series !== seriesId || cleared.plane !== plane) return setCleared(null);
    if (plane === 'stack') {
      setAxialMeasured((all) => ({ ...all, [cleared.series]: [...cleared.items, ...(all[cleared.series] ?? [])] }));
      measurementsChanged();
    } else setMprMeasured((ms) => [...cleared.items, ...ms]);
    setCleared(null);
  };
  // another series or plane, or a new measurement: the undo no longer means what it says
  useEffect(() => setCleared(null), [seriesId, plane]);

  // performance marks (the viewer benchmark reads them): selection -> first image on screen
  const firstShown = useRef<string | null>(null);
  useEffect(() => {
    if (!slice || !seriesId || firstShown.current === seriesId) return;
    firstShown.current = seriesId;
    requestAnimationFrame(() => {
      performance.mark('resight:first-image');
      if (performance.getEntriesByName('resight:select').length) performance.measure('resight:select-to-first-image', 'resight:select', 'resight:first-image');
    });
  }, [slice, seriesId]);

  useEffect(() => {
    if (!slice || !autoWindowPending.current) return;
    autoWindowPending.current = false;
    const w = sliceWindow(slice);
    setView((v) => ({ ...v, center: w.center, width: w.width }));
  }, [slice]);

  // fit on first image
  useEffect(() => {
    if (shownSlice && view.zoom === 0 && vpSize.w > 0) setView((v) => ({ ...v, zoom: fitZoom(vpSize.w, vpSize.h, shownSlice.columns, shownSlice.rows, v) }));
  }, [shownSlice, view.zoom, vpSize]);

  // persist what survives a reload (once the shown series' saved view is back: see `restored`)
  useEffect(() => {
    if (restored !== seriesId) return;
    if (viewedState.series) viewedBySeries.current[viewedState.series] = [...viewedState.slices];
    // series without measurements are left out, so the map only grows with measured series
    const kept = Object.fromEntries(Object.entries(axialMeasured).filter(([, ms]) => ms.length));
    const keptReformats = Object.fromEntries(Object.entries(reformatMeasured).filter(([, by]) => by.row?.length || by.column?.length));
    // the stack's view: a reformat's zoom, pan and turns mean nothing on the stack a reload opens
    if (plane === 'stack') {
      stackView.current = view;
      // judged on a slice on screen only: on one still loading or that failed, the last judgement stands
      if (view.zoom === 0) stackFitted.current = true;
      else if (shownSlice && vpSize.w > 0) stackFitted.current = !view.panX && !view.panY && isFitted(view, vpSize.w, vpSize.h, shownSlice.columns, shownSlice.rows);
    }
    const v: Persisted = { seriesId: seriesId ?? undefined, index, view: stackView.current ?? view, fitted: stackFitted.current, heatOn, colormap, opacity, threshold, bindings, viewed: viewedBySeries.current, measurements: kept, reformatMeasurements: keptReformats, measureHigh: measureHigh.current };
    try {
      localStorage.setItem(STATE_KEY, JSON.stringify(v));
    } catch {
      // storage full or refused: the viewer goes on; only what survives a reload is lost
    }
  }, [restored, seriesId, index, view, plane, heatOn, colormap, opacity, threshold, bindings, viewedState, axialMeasured, reformatMeasured, shownSlice, vpSize]);

  // ---------------------------------------------------------------- heatmap
  const classForSlice = useCallback(
    (i: number): string => {
      if (heatClass) return heatClass;
      const f = analysis?.findings.find((x) => i >= x.sliceStart && i <= x.sliceEnd);
      if (f) return f.class;
      const pr = analysis?.slices[i]?.probabilities;
      if (pr) return Object.entries(pr).sort((a, b) => b[1] - a[1])[0][0];
      return model?.classes?.[0] ?? '';
    },
    [heatClass, analysis, model],
  );
  // The heatmap is the evidence for the model's scores: only on a series the model scored. On
  // one it did not (not analysed yet, another modality it refused) a map would read as AI evidence
  // for a finding nobody computed.
  const heatAllowed = analysis?.scored === true;
  useEffect(() => {
    if (!heatOn || !seriesId || !model?.available || !heatAllowed) {
      setExplained(null);
      return;
    }
    let stop = false;
    const cls = classForSlice(index);
    const timer = setTimeout(() => {
      api
        .call('explain.slice', { seriesId, slice: index, method, ...(layer ? { layer } : {}), ...(cls ? { class: cls } : {}) })
        .then((e) => {
          if (stop) return;
          // the "model units (series)" scale is per series: another series' maps never set it
          const k = `${seriesId}|${e.class}|${e.layer}|${e.method}`;
          seriesMax.current.set(k, Math.max(seriesMax.current.get(k) ?? 0, e.max));
          setExplained({ ...e, forSlice: index, forSeries: seriesId });
        })
        .catch((e: Error) => !stop && setAiError(err(e)));
    }, 60);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [heatOn, seriesId, index, layer, method, classForSlice, model, heatAllowed]);

  const heat: HeatState | null = useMemo(() => {
    // only the map of the slice on screen: never the previous slice's while the next one computes
    if (!heatOn || !explained || explained.forSlice !== index || explained.forSeries !== seriesId) return null;
    const inputSize = (model?.card as { input?: { shape?: unknown[] } } | undefined)?.input?.shape;
    const ih = typeof inputSize?.[2] === 'number' ? inputSize[2] : 256;
    const iw = typeof inputSize?.[3] === 'number' ? inputSize[3] : 256;
    const k = `${explained.forSeries}|${explained.class}|${explained.layer}|${explained.method}`;
    // in model units the scale starts from the maps of the class's findings (their key slices,
    // computed by the analysis with the same method and layer), not from whichever slice was shown
    // first: else the first map seen, however weak, filled the colour bar
    const source = `${explained.method}@${explained.layer}`;
    const reference = Math.max(0, ...(analysis?.findings ?? []).filter((f) => f.class === explained.class && f.centroidSource === source && f.camMax !== undefined).map((f) => f.camMax as number));
    return {
      cam: Float32Array.from(explained.cam),
      camH: explained.camShape[0],
      camW: explained.camShape[1],
      inputH: ih,
      inputW: iw,
      scale: scaleMode === 'slice' ? explained.max : Math.max(reference, seriesMax.current.get(k) ?? explained.max),
      style: { colormap, opacity, threshold },
    };
  }, [heatOn, explained, model, colormap, opacity, threshold, scaleMode, index, seriesId, analysis]);

  // a map scaled to its own slice's maximum looks as hot on a slice the model calls negative as on
  // a lesion: said under the colour bar when the slice is below the class's operating threshold
  // (in model units too, when this map fills most of the scale: no finding of the class set it higher)
  const heatBelow = useMemo(() => {
    if (!heat || !explained || (scaleMode !== 'slice' && explained.max < 0.5 * heat.scale)) return null;
    const p = analysis?.slices[index]?.probabilities?.[explained.class];
    const th = thresholds[explained.class];
    return p !== undefined && th !== undefined && p < th ? { cls: explained.class, p, t: th } : null;
  }, [heat, scaleMode, explained, analysis, index, thresholds]);

  // the reviewer's own findings placed on this slice: drawn with their labels, as the report marks them
  const addedMarks = useMemo(() => {
    const all = reviewerFindings(reviews);
    const here = all.filter((f) => f.slice === index && f.point);
    if (!here.length) return [];
    const labels = findingLabelsOf(analysis?.findings ?? [], all, stackStep);
    return here.map((f) => ({ point: f.point as [number, number], label: labels.get(f.id) ?? '' }));
  }, [reviews, index, analysis, stackStep]);
  // the model's findings where the model is sure (their core), marked where the map peaks on the key
  // slice, as the report's key image rings it (a CAD mark): N lands on a finding and shows where to
  // look without the heatmap. A finding the reviewer rejected is not marked.
  const findingMarks = useMemo(() => {
    if (!analysis?.findings.length) return [];
    const labels = findingLabelsOf(analysis.findings, reviewerFindings(reviews), stackStep);
    return analysis.findings
      .filter((f) => f.centroid && index >= (f.coreStart ?? f.keySlice) && index <= (f.coreEnd ?? f.keySlice) && reviews.find((r) => r.findingId === f.id)?.decision !== 'rejected')
      // the centroid is a pixel (column, row); marks are in image coordinates (pixel edges)
      .map((f) => ({ point: [(f.centroid as [number, number])[0] + 0.5, (f.centroid as [number, number])[1] + 0.5] as [number, number], label: labels.get(f.id) ?? '', ai: true, key: f.keySlice === index }));
  }, [reviews, index, analysis, stackStep]);

  // ---------------------------------------------------------------- actions
  const axialGo = useCallback((i: number) => setIndex(Math.min(Math.max(0, count - 1), Math.max(0, i))), [count]);
  // scrolling in the current plane
  const go = useCallback(
    (i: number) => {
      if (plane === 'stack') axialGo(i);
      else setMprIndex(Math.min(Math.max(0, (mpr?.count ?? 1) - 1), Math.max(0, i)));
    },
    [plane, axialGo, mpr],
  );
  /** Another plane, fitted and upright (zoom, pan and turns of one plane mean nothing on another); each plane keeps its measurements. */
  const showPlane = useCallback((p: Plane) => {
    setPlane(p);
    setView((v) => ({ ...v, zoom: 0, panX: 0, panY: 0, rotation: 0, flipH: false }));
  }, []);
  // jumps to an axial slice (findings, next/previous positive, the score strip): back to the axial
  // plane first, since a coronal or sagittal index is not a slice number, fitted as the Axial button does
  const goSlice = useCallback(
    (i: number) => {
      if (plane !== 'stack') showPlane('stack');
      axialGo(i);
    },
    [plane, axialGo, showPlane],
  );
  const current = plane === 'stack' ? index : mprIndex;
  const total = plane === 'stack' ? count : (mpr?.count ?? 0);
  const positives = useMemo(() => Array.from({ length: count }, (_, i) => i).filter((i) => sliceScore(analysis, thresholds, i) >= 1), [analysis, thresholds, count]);
  // N / P: the findings' key slices and positive slices outside them (viewer/finding-nav.ts)
  const stops = useMemo(() => findingStops(analysis?.findings ?? [], positives), [analysis, positives]);
  const nextPositive = (dir: 1 | -1) => {
    const decided = (id: string) => !isUnreviewed(reviews.find((r) => r.findingId === id));
    // N goes on in reading order: down an axial stack, toward the feet
    const next = nextStop(analysis?.findings ?? [], stops, index, dir === stackStep ? 1 : -1, decided);
    if (next !== undefined) goSlice(next);
    // at either end the keys would do nothing: say so, rather than leave the reviewer guessing
    else if (stops.length) setNavNote(dir === 1 ? 'ai.noNext' : 'ai.noPrev');
  };
  // a colour series (RGB, YBR, palette: ultrasound, photographs, secondary captures) holds display
  // values, not modality values, even when its files say CT (a vendor's rendering)
  const colourSeries = slice?.samples === 3 || isColourPhotometric(info?.series.photometric);
  const monochrome1 = info?.series.photometric === 'MONOCHROME1';
  // a slab needs the axial plane, grey densities and a known slice spacing
  const slabAllowed = !colourSeries && slabOptions.length > 0 && (plane === 'stack' ? count > 2 : mprBlocked === null);
  // HU: a grey CT's values are, so its probe, ROIs and presets speak HU
  const hounsfield = info?.series.modality === 'CT' && !colourSeries;
  // Window presets: the CT presets are in HU, so only a CT gets them; any other series gets the
  // windows its files store (what Weasis and OHIF offer there), keys 1-6 alike
  const huPresets = hounsfield;
  // the files' own windows: on keys 1-6 where there are no CT presets, in the menu always (a CT's
  // stored windows are what its scanner or technologist chose)
  const fileWindows = (info?.windows ?? []).slice(0, 6);
  const preset = (id: string) => {
    const pr = CT_PRESETS.find((x) => x.id === id);
    if (pr && huPresets) setView((v) => ({ ...v, center: pr.center, width: pr.width }));
  };
  const storedWindow = (i: number) => {
    const w = fileWindows[i];
    if (w) setView((v) => ({ ...v, center: w.center, width: w.width }));
  };
  // the menu shows the window in use when it is one of its entries (a drag away from it: the title)
  const same = (a: { center: number; width: number }) => Math.abs(a.center - view.center) < 1e-6 && Math.abs(a.width - view.width) < 1e-6;
  const presetInUse = huPresets ? CT_PRESETS.find(same) : undefined;
  const fileWindowInUse = presetInUse ? -1 : fileWindows.findIndex(same);
  const windowMenuValue = presetInUse ? `preset:${presetInUse.id}` : fileWindowInUse >= 0 ? `stored:${fileWindowInUse}` : '';
  const fit = () => shownSlice && setView((v) => ({ ...v, zoom: fitZoom(vpSize.w, vpSize.h, shownSlice.columns, shownSlice.rows, v), panX: 0, panY: 0 }));
  // a quarter turn of a non-square image changes what fits: refitted when it was fitted
  const turn = (f: (v: ViewState) => ViewState) =>
    setView((v) => {
      const next = f(v);
      if (!shownSlice) return next;
      const { columns, rows } = shownSlice;
      return isFitted(v, vpSize.w, vpSize.h, columns, rows) ? { ...next, zoom: fitZoom(vpSize.w, vpSize.h, columns, rows, next) } : next;
    });
  const reset = () => {
    const w = storedOrConventionalWindow(info?.windows ?? [], info?.series.modality ?? '', colourSeries) ?? (slice ? sliceWindow(slice) : { center: 128, width: 256 });
    setView({ zoom: shownSlice ? fitZoom(vpSize.w, vpSize.h, shownSlice.columns, shownSlice.rows) : 1, panX: 0, panY: 0, center: w.center, width: w.width, invert: monochrome1 });
  };
  const startAnalysis = async (insistModality: boolean) => {
    if (!seriesId) return;
    setAiError(null);
    try {
      const { jobId } = await api.call('analysis.start', { seriesId, ...(insistModality ? { insistModality: true } : {}) });
      setJob(jobId);
      setProgress({ done: 0, total: count, rate: 0, eta: null });
    } catch (e) {
      setAiError(err(e));
    }
  };
  const analyze = () => startAnalysis(false);
  // a series the model refused (e.g. another modality): the reviewer may insist, and is told what it was trained on
  const insist = () => startAnalysis(true);
  const cancel = async () => {
    if (job) await api.call('analysis.cancel', { jobId: job }).catch(() => undefined);
    endJob();
  };
  /** Saves a decision; false when it was not saved (the error is shown). */
  const decide = async (findingId: string, decision: Review['decision'], comment?: string, point?: [number, number]): Promise<boolean> => {
    if (!seriesId) return false;
    // a finding the reviewer added keeps the place it was given when its comment is edited
    const place = point ?? (isAddedFinding(findingId) ? reviewsRef.current.find((x) => x.findingId === findingId)?.point : undefined);
    // the instances this id's slice numbers name on screen: the engine refuses the decision if
    // the stack changed meanwhile (more files opened) rather than put it on other slices
    const instances = info ? anchorOf(findingId, info.slices) : undefined;
    const epoch = seriesEpoch;
    try {
      // a sign-off says who signed: the name typed beside Sign off or in the export dialog, when there is one
      const reviewer = findingId === SIGN_OFF_ID && decision === 'accepted' ? storedReviewer().trim() || undefined : undefined;
      const r = await api.call('review.set', { seriesId, findingId, decision, ...(comment ? { comment } : {}), ...(instances ? { instances } : {}), ...(reviewer ? { reviewer: reviewer.slice(0, 256) } : {}), ...(place && decision !== 'rejected' ? { point: place } : {}) });
      if (seriesRef.current === seriesId && epochRef.current === epoch) setReviews((rs) => [...rs.filter((x) => x.findingId !== findingId), r]);
      return true;
    } catch (e) {
      // a decision that was not saved must not look saved
      setAiError(t('findings.saveFailed', { message: err(e) }));
      // the stack changed under the viewer: fetch it as it is now (the numbers on screen are old)
      if (e instanceof ApiError && e.code === 'INCONSISTENT_SERIES' && seriesRef.current === seriesId) setSeriesEpoch((x) => x + 1);
      return false;
    }
  };

  // modal dialogs: focus moves in, Tab stays in, and closing gives focus back to where it was
  // (the last element focused outside any dialog: a dialog's autofocus has moved focus by the time an effect runs)
  const returnFocus = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const onFocus = (e: FocusEvent) => {
      if (e.target instanceof HTMLElement && !e.target.closest('[role=dialog]')) returnFocus.current = e.target;
    };
    window.addEventListener('focusin', onFocus);
    return () => window.removeEventListener('focusin', onFocus);
  }, []);
  const dialogWasOpen = useRef(false);
  useEffect(() => {
    if (!dialog) {
      if (dialogWasOpen.current && returnFocus.current?.isConnected) returnFocus.current.focus();
      dialogWasOpen.current = false;
      return;
    }
    dialogWasOpen.current = true;
    const box = document.querySelector<HTMLElement>('[role=dialog]');
    if (box && !box.contains(document.activeElement)) focusables(box)[0]?.focus();
    const onTab = (e: KeyboardEvent) => {
      if (e.key !== 'Tab') return;
      const b = document.querySelector<HTMLElement>('[role=dialog]');
      const f = b ? focusables(b) : [];
      if (!b || !f.length) return;
      const inside = b.contains(document.activeElement);
      if (e.shiftKey && (!inside || document.activeElement === f[0])) {
        e.preventDefault();
        f[f.length - 1].focus();
      } else if (!e.shiftKey && (!inside || document.activeElement === f[f.length - 1])) {
        e.preventDefault();
        f[0].focus();
      }
    };
    window.addEventListener('keydown', onTab);
    return () => window.removeEventListener('keydown', onTab);
  }, [dialog]);

  // cine: the plane on screen plays (a reformat steps through its own positions, not the axial
  // stack under it); a reformat still loading starts once it is there
  const mprCount = mpr?.count ?? 0;
  // a clip plays at the rate its files give (RecommendedDisplayFrameRate, CineRate, FrameTime), a
  // stack or a reformat at 12 frames a second, unless the reviewer chose another
  const seriesFps = plane === 'stack' ? info?.series.displayFps : undefined;
  const cineFps = cineChoice ?? seriesFps ?? 12;
  useEffect(() => {
    const n = plane === 'stack' ? count : mprCount;
    if (!cine || !n) return;
    // in reading order, as the wheel goes
    const step = (i: number) => (i + planeStep + n) % n;
    const id = setInterval(() => (plane === 'stack' ? setIndex(step) : setMprIndex(step)), 1000 / cineFps);
    return () => clearInterval(id);
  }, [cine, count, plane, mprCount, cineFps, planeStep]);

  // keyboard (OHIF/Weasis habits)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setPlacing(null);
        return setDialog(null);
      }
      // Ctrl/Cmd/Alt combinations are the browser's and the OS's (copy, print, back, ...)
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (typingTarget(e.target)) return;
      // a slider or radio group keeps its own arrow / Page / Home / End keys
      const control = e.target as HTMLInputElement | null;
      if (control?.tagName === 'INPUT' && (control.type === 'range' || control.type === 'radio') && /^(Arrow|Page|Home|End)/.test(e.key)) return;
      if (dialog) return;
      const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      const handled = (() => {
        // in reading order (planeStep): ↓ on an axial stack goes toward the feet, Home to its top slice
        if (key === 'ArrowDown' || key === 'ArrowRight') go(current + planeStep);
        else if (key === 'ArrowUp' || key === 'ArrowLeft') go(current - planeStep);
        else if (key === 'PageDown') go(current + 10 * planeStep);
        else if (key === 'PageUp') go(current - 10 * planeStep);
        else if (key === 'Home') go(planeStep === 1 ? 0 : total - 1);
        else if (key === 'End') go(planeStep === 1 ? total - 1 : 0);
        else if (/^[1-6]$/.test(key)) {
          if (huPresets) preset(CT_PRESETS.find((p) => p.key === key)?.id ?? '');
          else storedWindow(Number(key) - 1);
        }
        else if (key === 'i') setView((v) => ({ ...v, invert: !v.invert }));
        else if (key === ' ' && !spacePresses(e.target)) reset(); // Space: OHIF's reset
        // OHIF's R / L turn a quarter clockwise / anticlockwise, V flips top-bottom (H is the heatmap here)
        else if (key === 'r') turn((v) => rotateView(v, 1));
        else if (key === 'l') turn((v) => rotateView(v, -1));
        else if (key === 'v') setView((v) => flipView(v, 'v'));
        else if (key === '+' || key === '=') setView((v) => ({ ...v, zoom: Math.min(40, v.zoom * 1.25) }));
        else if (key === '-') setView((v) => ({ ...v, zoom: Math.max(0.05, v.zoom / 1.25) }));
        else if (key === 'f') fit();
        else if (key === 'h') setHeatOn((x) => !x);
        else if (key === 'n') nextPositive(1);
        else if (key === 'p') nextPositive(-1);
        else if (key === 'c') {
          // a single image has nothing to play
          if (total < 2 && !cine) return false;
          setCine((x) => !x);
        }
        else if (key === 'm') {
          if (!slabAllowed) return false;
          setSlabMode((x) => (x ? null : 'mip'));
        }
        else if (key === 'o') {
          if (!seriesHasOverlays) return false;
          setShowOverlays((x) => !x);
        }
        else if (key === 'a' || key === 'x') {
          // the finding highlighted in the panel: the first that covers the axial slice on screen
          // (none in a coronal or sagittal view, where no axial slice is on screen)
          const f = plane === 'stack' ? findingAt(analysis?.findings ?? [], index, stackStep) : undefined;
          if (!f) return false;
          if (e.repeat) return true; // a held key decides once
          void decide(f.id, key === 'a' ? 'accepted' : 'rejected', reviews.find((r) => r.findingId === f.id)?.comment);
        }
        else if (key === '?') setDialog('help');
        else if (key === 't') {
          if (!seriesId) return false;
          setDialog('tags');
        }
        else return false;
        return true;
      })();
      if (handled) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  // ---------------------------------------------------------------- render
  const study = studies.find((st) => st.series.some((s) => s.id === seriesId));
  const series = study?.series.find((s) => s.id === seriesId);
  // along the slice normal (z for an axial series, x for a sagittal one), as scanners label "slice location"
  const loc = info?.slices[index]?.location ?? info?.slices[index]?.position?.[2];
  const thk = info?.slices[index]?.thickness;
  const inum = info?.slices[index]?.instanceNumber;
  // a multi-frame file's frames share its InstanceNumber: the frame too ("Im 3 fr 17")
  const iframe = multiFrame(index) ? info?.slices[index]?.frame : undefined;
  // where a reformat cuts the volume, in mm along the patient axis its plane faces (as "Pos" on the stack):
  // its row (column) of the first slice, from that slice's position along the column (row) direction
  const mprPos = (() => {
    const p0 = info?.slices[0]?.position;
    const ps = info?.series.pixelSpacing;
    if (plane === 'stack' || !p0 || !ps || !iop) return null;
    const dir = plane === 'row' ? iop.slice(3, 6) : iop.slice(0, 3);
    const step = plane === 'row' ? ps[0] : ps[1];
    const axis = dir.map(Math.abs).indexOf(Math.max(...dir.map(Math.abs)));
    return p0[axis] + dir[axis] * mprIndex * step;
  })();
  // a whole number of mm as it is (15 mm), else to a tenth (13.8 mm)
  const slabMmText = (mm: number) => num(mm, Math.abs(mm - Math.round(mm)) < 0.05 ? 0 : 1);
  const corners = {
    tl: study ? [personNameText(study.patient.name), study.patient.id, study.description ?? ''] : [],
    // the series number first, as PACS overlays cite "Se 3 Im 45"
    tr: series ? [`${series.number !== undefined ? `${t('viewer.seriesNumber', { n: series.number })}  ` : ''}${series.modality} ${series.description}`, study?.date ? `${study.date.slice(0, 4)}-${study.date.slice(4, 6)}-${study.date.slice(6, 8)}` : '', ...(series.lossy && (plane !== 'stack' || slabbed || info?.slices[index]?.lossy) ? [t('viewer.lossy')] : [])] : [],
    bl: count
      ? plane === 'stack'
        ? [
            // numbered from 1 in reading order (shared/planes.ts); "Im" is the InstanceNumber another viewer (a PACS) shows
            [t('viewer.slice', { i: stackNumber(index), n: count }), inum !== undefined ? t(iframe !== undefined ? 'viewer.instanceFrame' : 'viewer.instance', { n: inum, f: (iframe ?? 0) + 1 }) : ''].filter(Boolean).join('  '),
            [loc !== undefined ? t('viewer.position', { z: num(loc, 1) }) : '', thk !== undefined ? t('viewer.thickness', { t: num(thk, 2) }) : ''].filter(Boolean).join('  '),
            // the slab's real extent: whole slices, cut at the series' ends, and how many are in yet
            ...(slabbed
              ? [t('viewer.slab', { mode: t(`slab.${slabbed.mode}` as MessageKey), mm: slabMmText(slabbed.mm), ...slabNumbers(slabbed.from, slabbed.to) }) +
                  (slabbed.used.length < slabbed.to - slabbed.from + 1 ? ` ${t('viewer.slabLoading', { n: slabbed.used.length, total: slabbed.to - slabbed.from + 1 })}` : '')]
              : []),
          ].filter(Boolean)
        : [`${t(`plane.${planes?.[plane] ?? 'oblique'}` as MessageKey)} ${mpr ? planeNumber(mprIndex) : mprIndex + 1} / ${mpr?.count ?? '…'}`, ...(mprPos !== null ? [t('viewer.position', { z: num(mprPos, 1) })] : []), ...(mpr && 'slab' in mpr ? [t('viewer.slabAt', { mode: t(`slab.${mpr.slab.mode}` as MessageKey), mm: slabMmText(mpr.slab.mm), ...slabNumbers(mpr.slab.from, mpr.slab.to) })] : []), ...(mpr ? [] : [partial ? t('viewer.mprTooLarge') : t('viewer.mprLoading', { n: loaded, total: count })])]
      : [],
    // zoom 0 means "fit once a slice is there": nothing to say until then (a slice that failed)
    br: count ? [t('viewer.wl', { w: num(view.width, 0), l: num(view.center, 0) }), ...(view.zoom > 0 ? [t('viewer.zoom', { z: num(view.zoom * 100, 0) })] : [])] : [],
  };
  const modelOk = model?.available === true;

  const onDrop = async (e: React.DragEvent) => {
    e.preventDefault();
    const files = Array.from(e.dataTransfer.files);
    if (!files.length) return;
    if (!api.openDropped) {
      setError(t('browser.dropBrowser'));
      return;
    }
    try {
      const r = await api.openDropped(files);
      opened(r, files.map((f) => f.name).join(', '));
      setStudies((await api.call('studies.list', {})).studies);
      afterOpen(r);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div className="app" onDragOver={(e) => e.preventDefault()} onDrop={(e) => void onDrop(e)}>
      <header onMouseDown={keepFocusOffButtons}>
        <h1>{t('app.title')}</h1>
        {model?.notForClinicalUse !== false ? <span className="badge" role="note">{t('app.notForClinicalUse')}</span> : null}
        <span className="grow" />
        {renderer === 'canvas2d' ? <span className="muted">{t('viewer.webglMissing')}</span> : null}
        <label>
          <span className="sr-only">{t('app.language')}</span>
          <select aria-label={t('app.language')} value={lang} onChange={(e) => setLang(e.target.value as Language)} data-testid="language">
            {Object.entries(LANGUAGES).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
        <button onClick={() => setDialog('export')} disabled={!analysis} data-testid="export-button">{t('export.button')}</button>
        <button onClick={() => setDialog('tags')} disabled={!seriesId} data-testid="tags-button">{t('tags.button')}</button>
        <button onClick={() => setDialog('prefs')} data-testid="preferences-button">{t('prefs.button')}</button>
        <button onClick={() => setDialog('model')} disabled={!model?.card} data-testid="model-card-button">{t('ai.modelCard')}</button>
        <button onClick={() => setDialog('help')} aria-label={t('app.help')}>?</button>
      </header>
      {error ? <div className="error" role="alert">{t('app.error')}: {error}</div> : null}
      <main>
        <div className="left">
          <form className="panel open" onSubmit={(e) => { e.preventDefault(); void openStudies(); }}>
            <label>
              <span className="sr-only">{t('browser.open')}</span>
              <input value={openPath} onChange={(e) => setOpenPath(e.target.value)} placeholder={t('browser.openPlaceholder')} aria-label={t('browser.open')} />
            </label>
            <button type="submit">{t('browser.open')}</button>
            {scan ? <progress max={scan.total || 1} value={scan.done} aria-label={t('browser.open')} /> : null}
            {openNote ? <p className="muted open-note" role="status" data-testid="open-note">{openNote}</p> : null}
          </form>
          <StudyBrowser api={api} studies={studies} unused={unused} selected={seriesId} onSelect={(id) => { if (id === seriesId) return; performance.clearMarks(); performance.clearMeasures(); performance.mark('resight:select'); saved.current = { ...saved.current, seriesId: undefined }; setSeriesId(id); }} />
        </div>
        <section className="center">
          <div className="toolbar" role="toolbar" aria-label={t('tools.title')} onMouseDown={keepFocusOffButtons}>
            {TOOLS.map((tool) => (
              <button key={tool} aria-pressed={bindings.left === tool} onClick={() => setBindings((b) => ({ ...b, left: tool }))} data-testid={`tool-${tool}`}>{t(TOOL_KEY[tool])}</button>
            ))}
            <span className="sep" />
            {/* one menu, as OHIF's W/L presets: keys 1-6 are the quick way; a row of buttons took a toolbar line */}
            {huPresets || fileWindows.length || (shownSlice && !colourSeries) ? (
              <select
                value={windowMenuValue}
                onChange={(e) => {
                  // an action, not a setting: focus goes back so ↓ scrolls again instead of choosing the first preset
                  e.currentTarget.blur();
                  const [kind, id] = e.target.value.split(':');
                  if (kind === 'preset') preset(id);
                  else if (kind === 'stored') storedWindow(Number(id));
                  else if (kind === 'full' && shownSlice) {
                    const w = sliceWindow(shownSlice);
                    setView((v) => ({ ...v, center: w.center, width: w.width }));
                  }
                }}
                aria-label={t('tools.windowPresets')}
                data-testid="window-presets"
              >
                <option value="">{t('tools.windowPresets')}</option>
                {huPresets
                  ? CT_PRESETS.map((p) => (
                      <option key={p.id} value={`preset:${p.id}`} data-testid={`preset-${p.id}`}>{`${p.key}  ${t(`preset.${p.id}` as MessageKey)} (W ${p.width} L ${p.center})`}</option>
                    ))
                  : null}
                {fileWindows.length ? (
                  // on a CT under the presets, without keys; elsewhere they are the keys' windows
                  <optgroup label={t('tools.fileWindows')}>
                    {fileWindows.map((w, i) => (
                      <option key={i} value={`stored:${i}`} data-testid={`stored-window-${i + 1}`}>
                        {`${huPresets ? '' : `${i + 1}  `}${w.explanation ? `${w.explanation} (${t('viewer.wl', { w: num(w.width, 0), l: num(w.center, 0) })})` : t('viewer.wl', { w: num(w.width, 0), l: num(w.center, 0) })}`}
                      </option>
                    ))}
                  </optgroup>
                ) : null}
                {/* Weasis's auto level: the shown image's own range, on any grey image (an MR without stored windows has nothing else) */}
                {shownSlice && !colourSeries ? <option value="full:" data-testid="window-full-range">{t('tools.fullRange')}</option> : null}
              </select>
            ) : null}
            <span className="sep" />
            {(planes ? (['stack', 'row', 'column'] as const) : (['stack'] as const))
              // in the order radiologists name them, whichever the stack is
              .map((v) => ({ v, name: planes ? planes[v] : ('acquired' as const) }))
              .sort((a, b) => PLANE_ORDER.indexOf(a.name) - PLANE_ORDER.indexOf(b.name))
              // two planes of one name (a stack turned 45° in-plane has two oblique reformats) are numbered
              .map((x, _i, all) => ({ ...x, label: `${t(`plane.${x.name}` as MessageKey)}${all.filter((y) => y.name === x.name).length > 1 ? ` ${all.filter((y) => y.name === x.name).indexOf(x) + 1}` : ''}` }))
              .map(({ v, name, label }) => (
                <button
                  key={v}
                  aria-pressed={plane === v}
                  disabled={v !== 'stack' && mprBlocked !== null}
                  title={v === 'stack' ? t('plane.asAcquired') : mprBlocked ? t(mprBlocked) : undefined}
                  onClick={() => {
                    // a reformat opens through the finding on screen while the view is as it opened, else
                    // through the point at the centre of the view (where the reviewer was looking), else the middle
                    const centre = plane === 'stack' && slice && vpSize.w > 0 && view.zoom > 0 ? screenToImage(vpSize.w / 2, vpSize.h / 2, vpSize.w, vpSize.h, slice.columns, slice.rows, view) : null;
                    const here = plane === 'stack' ? findingAt(analysis?.findings ?? [], index, stackStep) : undefined;
                    const untouched = !!slice && !view.panX && !view.panY && isFitted(view, vpSize.w, vpSize.h, slice.columns, slice.rows);
                    const at = plane === 'stack' ? reformatPoint(centre, here?.centroid, untouched) : null;
                    showPlane(v);
                    if (v !== 'stack' && slice) {
                      const n = v === 'row' ? slice.rows : slice.columns;
                      const k = at ? Math.floor(v === 'row' ? at[1] : at[0]) : Math.floor(n / 2);
                      setMprIndex(Math.min(n - 1, Math.max(0, k)));
                    }
                  }}
                  data-testid={`plane-${name}`}
                  data-view={v}
                >
                  {label}
                </button>
              ))}
            <label className="slab" title={slabAllowed ? t('slab.hint') : t('slab.unavailable')}>
              {t('slab.label')}
              {/* focus leaves the menus once chosen, so the viewer's keys (M, arrows) work again at once */}
              <select value={slabMode ?? ''} onChange={(e) => { setSlabMode((e.target.value || null) as SlabMode | null); e.currentTarget.blur(); }} disabled={!slabAllowed} data-testid="slab-mode">
                <option value="">{t('slab.off')}</option>
                {SLAB_MODES.map((m) => <option key={m} value={m}>{t(`slab.${m}` as MessageKey)}</option>)}
              </select>
              <select value={slabChoice?.mm ?? ''} onChange={(e) => { setSlabMm(Number(e.target.value)); e.currentTarget.blur(); }} disabled={!slabAllowed || !slabMode} aria-label={t('slab.thickness')} data-testid="slab-mm">
                {/* what each really takes on this series: whole slices, so 10 mm of 5 mm slices is 3 slices, 15 mm */}
                {slabOptions.map((c) => <option key={c.mm} value={c.mm}>{t(plane === 'stack' ? 'slab.choice' : 'slab.choicePositions', { mm: slabMmText(c.thicknessMm), n: c.slices })}</option>)}
              </select>
            </label>
            <span className="sep" />
            <button onClick={fit}>{t('tools.fit')}</button>
            <button onClick={() => setView((v) => ({ ...v, zoom: 1 / (window.devicePixelRatio || 1) }))}>{t('tools.oneToOne')}</button>
            <button onClick={reset}>{t('tools.reset')}</button>
            {/* pressed: shown inverted from what the file asks (a MONOCHROME1 image is drawn lowest-white with the button up, as in Weasis and OHIF) */}
            <button aria-pressed={view.invert !== monochrome1} onClick={() => setView((v) => ({ ...v, invert: !v.invert }))} data-testid="invert">{t('tools.invert')}</button>
            <button onClick={() => turn((v) => rotateView(v, -1))} title={`L: ${t('tools.rotateLeft')}`} aria-label={t('tools.rotateLeft')} data-testid="rotate-left">⟲</button>
            <button onClick={() => turn((v) => rotateView(v, 1))} title={`R: ${t('tools.rotateRight')}`} aria-label={t('tools.rotateRight')} data-testid="rotate-right">⟳</button>
            <button onClick={() => setView((v) => flipView(v, 'h'))} title={t('tools.flipH')} aria-label={t('tools.flipH')} data-testid="flip-h">⇆</button>
            <button onClick={() => setView((v) => flipView(v, 'v'))} title={`V: ${t('tools.flipV')}`} aria-label={t('tools.flipV')} data-testid="flip-v">⇅</button>
            <button aria-pressed={cine} onClick={() => setCine(!cine)} disabled={total < 2 && !cine} data-testid="cine">{t('tools.cine')}</button>
            {cine ? (
              <select
                value={cineChoice ?? ''}
                onChange={(e) => {
                  setCineChoice(e.target.value ? Number(e.target.value) : null);
                  e.currentTarget.blur();
                }}
                aria-label={t('cine.rate')}
                title={t('cine.rate')}
                data-testid="cine-rate"
                data-fps={cineFps}
              >
                <option value="">{t(seriesFps !== undefined ? 'cine.autoFromImages' : 'cine.auto', { fps: num(seriesFps ?? 12, seriesFps !== undefined && !Number.isInteger(seriesFps) ? 1 : 0) })}</option>
                {[5, 10, 15, 20, 25, 30, 60].map((f) => <option key={f} value={f}>{t('cine.fps', { fps: f })}</option>)}
              </select>
            ) : null}
            {seriesHasOverlays ? (
              <button aria-pressed={showOverlays} onClick={() => setShowOverlays(!showOverlays)} title={(overlaysShown ?? []).map((o) => o.label ?? o.description ?? '').filter(Boolean).join('; ') || undefined} data-testid="toggle-overlays">
                {t('tools.overlays')}
              </button>
            ) : null}
            <details className="bindings">
              <summary>{t('tools.bindings')}</summary>
              {(['left', 'middle', 'right'] as const).map((b) => (
                <label key={b}>
                  {t(`tools.${b}` as MessageKey)}
                  <select value={bindings[b]} onChange={(e) => setBindings((x) => ({ ...x, [b]: e.target.value as Tool }))}>
                    {TOOLS.map((tool) => <option key={tool} value={tool}>{t(TOOL_KEY[tool])}</option>)}
                  </select>
                </label>
              ))}
            </details>
          </div>
          <div className="stage" data-testid="stage" data-slices-in-memory={loaded - sliceErrors.size} data-display-inverted={view.invert}>
            {seriesId ? (
              <Viewport
                slice={shownSlice}
                index={current}
                count={total}
                readingStep={planeStep}
                sliceNumber={stackNumber}
                view={view}
                onView={setView}
                onIndex={go}
                heat={plane === 'stack' ? heat : null}
                heatCaveat={heatBelow ? t('ai.heatBelowShort', { cls: cls(heatBelow.cls) }) : undefined}
                bindings={bindings}
                measurements={measurements}
                onMeasure={(m) => {
                  setCleared(null);
                  const made = measured(m);
                  // numbered after the highest in its list, so deleting one never renumbers the others
                  // one numbering over the series' axial and reformat measurements: a coronal M1
                  // beside an axial M1 would make "see M1" mean two things
                  const mine = seriesId ? [...(axialMeasured[seriesId] ?? []), ...(reformatMeasured[seriesId]?.row ?? []), ...(reformatMeasured[seriesId]?.column ?? [])] : [];
                  const label = nextLabel(mine, seriesId ? (measureHigh.current[seriesId] ?? 0) : 0);
                  if (seriesId) measureHigh.current[seriesId] = label;
                  if (made.instance && seriesId) {
                    setAxialMeasured((all) => ({ ...all, [seriesId]: [...(all[seriesId] ?? []), { ...made, label }] }));
                    measurementsChanged();
                  } else setMprMeasured((ms) => [...ms, { ...made, label }]);
                }}
                // placing a finding the reviewer adds: the click says where (axial only: findings are on slices)
                {...(placing && plane === 'stack'
                  ? {
                      onPlace: (pt: [number, number]) => {
                        const cls = placing;
                        setPlacing(null);
                        void decide(addedFindingId(cls, index), 'accepted', undefined, [Math.round(pt[0] * 10) / 10, Math.round(pt[1] * 10) / 10]);
                      },
                    }
                  : {})}
                marks={plane === 'stack' ? [...findingMarks, ...addedMarks] : []}
                onEditMeasurement={(i, m) => {
                  const old = measurements[i];
                  if (!old) return;
                  const made = { ...measured(m), ...(old.label !== undefined ? { label: old.label } : {}) };
                  if (plane !== 'stack') setMprMeasured((ms) => ms.map((x, j) => (j === i ? made : x)));
                  else if (seriesId) {
                    setAxialMeasured((all) => ({ ...all, [seriesId]: (all[seriesId] ?? []).map((x) => (sameMeasurement(x, old) ? made : x)) }));
                    measurementsChanged();
                  }
                }}
                calibration={calibrationOf(current)}
                // a radiograph without ImageOrientationPatient: its PatientOrientation letters, for the letters only
                orientation={plane === 'stack' ? (info?.series.geometry.orientation ?? (info?.series.patientOrientation ? info.series.patientOrientation.flatMap(cosinesOfLetters) : undefined)) : mpr?.orientation}
                corners={corners}
                error={plane === 'stack' ? sliceErrors.get(index) : undefined}
                hounsfield={hounsfield}
                overlays={overlaysShown}
                measured={slabbed ? slice : mpr && 'plain' in mpr ? mpr.plain : undefined}
                onRendererKind={setRenderer}
                onSize={(w, h) => {
                  const old = vpSize;
                  setVpSize({ w, h });
                  // a fitted image stays fitted when the window changes size; a zoom or pan the reviewer chose stays
                  const sh = shownSlice;
                  if (sh && old.w > 0) setView((v) => (!v.panX && !v.panY && isFitted(v, old.w, old.h, sh.columns, sh.rows) ? { ...v, zoom: fitZoom(w, h, sh.columns, sh.rows, v) } : v));
                }}
              />
            ) : (
              <p className="muted">{t('viewer.noSeries')}</p>
            )}
            {placing ? (
              <div className="toast" role="status" data-testid="placing">
                {t('findings.placeHint', { cls: cls(placing) })}{' '}
                <button
                  onClick={() => {
                    const c = placing;
                    setPlacing(null);
                    void decide(addedFindingId(c, index), 'accepted');
                  }}
                >
                  {t('findings.placeNoPoint')}
                </button>{' '}
                <button onClick={() => setPlacing(null)}>{t('findings.placeCancel')}</button>
              </div>
            ) : null}
            {cleared && cleared.series === seriesId && cleared.plane === plane ? (
              <div className="toast" role="status" data-testid="cleared">
                {cleared.items.length === 1 ? t('tools.clearedOne') : t('tools.cleared', { n: cleared.items.length })} <button onClick={undoClear} data-testid="undo-clear">{t('tools.undo')}</button>
              </div>
            ) : null}
            <ScoreStrip count={count} index={index} analysis={analysis} thresholds={thresholds} viewed={viewed} readingStep={stackStep} wheel={plane === 'stack'} onIndex={goSlice} />
          </div>
        </section>
        <aside className="side">
          <section className="panel ai" aria-label={t('ai.title')}>
            <h2>{t('ai.title')}</h2>
            {!modelOk && model ? <p className="muted">{t('ai.unavailable', { reason: model.reason ?? '' })}</p> : null}
            <div className="row">
              <button className="primary" onClick={analyze} disabled={!modelOk || !seriesId || job !== null} data-testid="analyze">{t('ai.analyze')}</button>
              {job ? <button onClick={cancel}>{t('ai.cancel')}</button> : null}
            </div>
            {progress ? (
              <div role="status" data-testid="progress">
                <progress max={progress.total} value={progress.done} aria-label={t('ai.analyze')} />
                <div className="muted">{t('ai.progress', { done: progress.done, total: progress.total, rate: num(progress.rate, 0), eta: progress.eta === null ? '…' : num(progress.eta, 1) })}</div>
              </div>
            ) : null}
            {provider ? (
              <div className="muted" data-testid="provider">
                {t('ai.provider', { provider: provider.used })}
                {provider.fallbacks.length ? (
                  <details>
                    <summary>{t('ai.fallbacks', { n: provider.fallbacks.length })}</summary>
                    {/* the kind in the user's language; ONNX Runtime's own words (English) under it, for the IT admin */}
                    <ul>
                      {provider.fallbacks.map((f) => (
                        <li key={f.provider} data-testid="fallback" data-kind={f.kind}>
                          {f.kind ? t(`ai.fallbackKind.${f.kind}`, { provider: f.provider }) : t('ai.fallback', { provider: f.provider, reason: f.reason })}
                          {f.kind ? <div className="fallback-detail" lang="en">{f.reason}</div> : null}
                        </li>
                      ))}
                    </ul>
                  </details>
                ) : null}
              </div>
            ) : null}
            {aiError ? <p className="error" role="alert">{aiError}</p> : null}
            <div className="row">
              <button onClick={() => nextPositive(-1)} disabled={!stops.length} aria-label={t('ai.prevPositive')}>◀ P</button>
              <button onClick={() => nextPositive(1)} disabled={!stops.length} aria-label={t('ai.nextPositive')} data-testid="next-positive">N ▶</button>
            </div>
            {/* its own line, always there: a note appearing must not move the buttons under the pointer */}
            <p className="muted nav-note" role="status" data-testid="nav-note">{navNote ? t(navNote) : ''}</p>
            <fieldset>
              <legend>{t('ai.heatmap')}</legend>
              <label className="row"><input type="checkbox" checked={heatOn} onChange={(e) => setHeatOn(e.target.checked)} disabled={!modelOk} data-testid="heatmap-toggle" /> {t('ai.heatmapToggle')}</label>
              <label className="row">{t('ai.class')}
                <select value={heatClass} onChange={(e) => setHeatClass(e.target.value)} data-testid="heat-class">
                  <option value="">{t('ai.classAuto')}</option>
                  {(model?.classes ?? []).map((c) => <option key={c} value={c}>{cls(c)}</option>)}
                </select>
              </label>
              <label className="row">{t('ai.layer')}
                <select value={layer} onChange={(e) => setLayer(e.target.value)}>
                  {(model?.camLayers ?? []).map((l) => <option key={l} value={l}>{l}</option>)}
                </select>
              </label>
              <label className="row">{t('ai.method')}
                <select value={method} onChange={(e) => setMethod(e.target.value as (typeof CAM_METHOD_NAMES)[number])}>
                  {CAM_METHOD_NAMES.filter((m) => m !== 'scorecam').map((m) => <option key={m} value={m}>{CAM_METHOD_LABELS[m]}</option>)}
                </select>
              </label>
              <label className="row">{t('ai.colormap')}
                <select value={colormap} onChange={(e) => setColormap(e.target.value as ColormapName)}>
                  {COLORMAPS.map((c) => <option key={c} value={c}>{c}</option>)}
                </select>
              </label>
              <label className="row">{t('ai.opacity')}<input type="range" min={0} max={1} step={0.05} value={opacity} onChange={(e) => setOpacity(Number(e.target.value))} /><output className="slider-value">{`${num(opacity * 100, 0)} %`}</output></label>
              <label className="row">{t('ai.threshold')}<input type="range" min={0} max={0.95} step={0.05} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))} /><output className="slider-value">{num(threshold, 2)}</output></label>
              <label className="row">{t('ai.scale')}
                <select value={scaleMode} data-testid="heat-scale" onChange={(e) => setScaleMode(e.target.value as 'slice' | 'model')}>
                  <option value="slice">{t('ai.scaleSlice')}</option>
                  <option value="model">{t('ai.scaleModel')}</option>
                </select>
              </label>
              {heat && plane === 'stack' ? <div className="colorbar" aria-hidden="true"><span>0</span><span className={`bar ${colormap}`} /><span>{num(heat.scale, 3)}</span></div> : null}
              {heatOn && !heatAllowed && model?.available ? <p className="muted heat-note" role="note" data-testid="heat-needs-analysis">{t('ai.heatNeedsAnalysis')}</p> : null}
              {/* the model scores axial slices: a reformat has no map, and says so rather than look switched off */}
              {heatOn && heatAllowed && plane !== 'stack' ? <p className="muted heat-note" role="note" data-testid="heat-axial-only">{t('ai.heatAxialOnly', { plane: t(`plane.${planes?.stack ?? 'oblique'}` as MessageKey) })}</p> : null}
              {heatBelow ? <p className="muted heat-note" role="note" data-testid="heat-below">{t('ai.heatBelow', { cls: cls(heatBelow.cls), p: num(heatBelow.p, 3), t: num(heatBelow.t, 3) })}{scaleMode === 'slice' ? ` ${t('ai.heatBelowSlice')}` : ''}</p> : null}
            </fieldset>
          </section>
          <FindingsPanel key={seriesId ?? ''} analysis={analysis} reviews={reviews} classes={model?.classes ?? []} operatingPoints={model?.operatingPoints} operatingPointFallback={model?.operatingPoint?.fallback} index={index} readingStep={stackStep} sliceCount={count} imageNumber={imageNumber} axial={plane === 'stack'} viewed={viewed} onDecide={decide} onAdd={(c) => setPlacing(c)} onGo={goSlice} onInsist={insist} busy={job !== null} />
          <MeasurementsPanel measurements={measurements} hounsfield={hounsfield} sliceNumber={planeNumber} {...(plane !== 'stack' ? { planeName: t(`plane.${planes?.[plane] ?? 'oblique'}` as MessageKey) } : {})} onGo={go} onClear={clearMeasurements} onDelete={(i) => {
            const gone = measurements[i];
            if (plane !== 'stack') setMprMeasured((ms) => ms.filter((_, j) => j !== i));
            else if (gone && seriesId) {
              setAxialMeasured((all) => ({ ...all, [seriesId]: (all[seriesId] ?? []).filter((m) => !sameMeasurement(m, gone)) }));
              measurementsChanged();
            }
          }} />
        </aside>
      </main>
      {dialog === 'help' ? (
        <div className="dialog" role="dialog" aria-modal="true" aria-label={t('help.title')}>
          <h2>{t('help.title')}</h2>
          <table>
            <tbody>
              {[
                [`↑ ↓ ← → / ${t('help.wheel')}`, t('help.sliceStep')], ['PageUp / PageDown', '±10'], ['Home / End', t('help.firstLast')],
                ['1–6', huPresets ? CT_PRESETS.map((p) => `${p.key} ${t(`preset.${p.id}` as MessageKey)}`).join(', ') : t('help.storedWindows')],
                ['H', t('ai.heatmapToggle').replace(/\s*\(H\)$/, '')], ['A / X', t('help.decideHere')], ['N / P', `${t('ai.nextPositive')} / ${t('ai.prevPositive')}`],
                ['I', t('tools.invert')], ['O', t('tools.overlays')], ['T', t('tags.title')], ['Space', t('tools.reset')], ['R / L', `${t('tools.rotateRight')} / ${t('tools.rotateLeft')}`], ['V', t('tools.flipV')], ['+ / −', t('tools.zoom')], ['F', t('tools.fit')], ['C', t('tools.cine')], ['M', t('slab.toggle')], ['?', t('help.title')], ['Esc', t('help.close')],
                [`${t('tools.left')}`, t(TOOL_KEY[bindings.left])], [`${t('tools.middle')}`, t(TOOL_KEY[bindings.middle])], [`${t('tools.right')}`, t(TOOL_KEY[bindings.right])],
              ].map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}
            </tbody>
          </table>
          <button onClick={() => setDialog(null)} autoFocus>{t('help.close')}</button>
        </div>
      ) : null}
      {dialog === 'export' && seriesId ? <ExportDialog
          api={api}
          seriesId={seriesId}
          deidentifyByDefault={prefs.deidentifyByDefault === true}
          // every measurement of the series, whichever plane is on screen (a reformat's measured in the patient)
          measurements={reportedMeasurements}
          readingStep={stackStep}
          onClose={() => setDialog(null)}
        /> : null}
      {dialog === 'prefs' ? (
        <PreferencesDialog
          api={api}
          layers={model?.camLayers ?? []}
          operatingPoints={model?.operatingPoints}
          onSaved={(pr) => {
            setPrefs(pr);
            // model.get names the operating point now in use (model card dialog, fallback notice)
            api.call('model.get', {}).then(setModel, () => undefined);
            if (pr.camMethod && pr.camMethod !== 'scorecam') setMethod(pr.camMethod);
            if (pr.camLayer && model?.camLayers?.includes(pr.camLayer)) setLayer(pr.camLayer);
          }}
          onClose={() => setDialog(null)}
        />
      ) : null}
      {dialog === 'tags' && seriesId ? <TagBrowser api={api} seriesId={seriesId} slice={index} onClose={() => setDialog(null)} /> : null}
      {dialog === 'model' && model ? <ModelCardDialog model={model} onClose={() => setDialog(null)} /> : null}
    </div>
  );
}
