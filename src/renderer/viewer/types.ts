import type { OverlayStyle } from '../../shared/colormap';
import type { SliceData } from '../api/client';

/** What the viewport shows: window, orientation of the image on screen, inversion. */
export interface ViewState {
  /** Screen pixels per image pixel. */
  zoom: number;
  /** Offset of the image centre from the canvas centre, screen pixels. */
  panX: number;
  panY: number;
  center: number;
  width: number;
  invert: boolean;
  /** Degrees clockwise on screen, a multiple of 90 (OHIF's rotate right / left); absent = 0. */
  rotation?: number;
  /** The image mirrored left-right before the rotation (OHIF's flip; a top-bottom flip is this plus 180°). */
  flipH?: boolean;
}

/** The heatmap of the shown slice: the small CAM (model units), upsampled on the GPU. */
export interface HeatState {
  cam: Float32Array;
  camH: number;
  camW: number;
  /** The model input size the CAM is aligned to (preprocessing's resize target). */
  inputH: number;
  inputW: number;
  /** Divide by this to get 0..1 (the slice's max, or the series max in model units). */
  scale: number;
  style: OverlayStyle;
}

export interface SliceRenderer {
  readonly kind: 'webgl2' | 'canvas2d';
  setSlice(s: SliceData | null): void;
  setHeat(h: HeatState | null): void;
  render(view: ViewState): void;
  dispose(): void;
}
