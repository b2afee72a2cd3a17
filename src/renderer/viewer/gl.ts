/**
 * WebGL2 slice renderer: the slice's modality values as an R32F texture (a colour slice's samples
 * as an RGB8 or RGB32F texture), window/level and the heatmap composited in the fragment shader
 * (the formula of src/shared/composite.ts, per channel for colour), so scrolling, windowing and
 * overlay changes cost one draw call. The heatmap follows
 * core/explain/geometry.ts exactly: the small CAM is resized bilinearly (half-pixel centres) to
 * the model input once on the CPU when it arrives (64 k values), and the shader resizes that
 * bilinearly to the slice's rows x columns per fragment (4 fetches, not 16).
 */
import { colormapLut } from '../../shared/colormap';
import type { SliceData } from '../api/client';
import { resizeBilinear } from '../../shared/resample';
import type { HeatState, SliceRenderer, ViewState } from './types';
import { viewMatrix } from './geometry';

const VS = `#version 300 es
in vec2 a_pos;
void main() { gl_Position = vec4(a_pos, 0.0, 1.0); }`;

const FS = `#version 300 es
precision highp float;
precision highp sampler2D;
uniform sampler2D u_img;
uniform bool u_colour;       // u_img holds R G B samples, else one value in .r
uniform float u_texScale;    // texel to sample value: 255 for an RGB8 (normalised) texture, else 1
uniform vec2 u_imgSize;      // columns, rows
uniform vec2 u_canvas;       // drawing-buffer pixels
uniform float u_zoom;        // buffer pixels per image pixel
uniform vec2 u_pan;          // buffer pixels
uniform vec4 u_m;            // the view's flip and quarter turn: screen = M * image, M = (m00, m01, m10, m11)
uniform float u_center;
uniform float u_width;
uniform bool u_invert;
uniform bool u_heatOn;
uniform sampler2D u_cam;
uniform vec2 u_camSize;      // w, h
uniform vec2 u_inputSize;    // w, h
uniform float u_heatScale;
uniform sampler2D u_lut;
uniform float u_opacity;
uniform float u_threshold;
out vec4 outColor;

// a grey value in all three channels, so the one windowing below serves grey and colour alike
vec3 img(ivec2 p) {
  vec4 t = texelFetch(u_img, clamp(p, ivec2(0), ivec2(u_imgSize) - 1), 0);
  return u_colour ? t.rgb * u_texScale : vec3(t.r);
}
float cam(ivec2 p) { return texelFetch(u_cam, clamp(p, ivec2(0), ivec2(u_camSize) - 1), 0).r; }

// half-pixel-centre resize source coordinate: dst index -> src position, clamped
vec2 srcPos(vec2 dst, vec2 inSize, vec2 outSize) { return clamp((dst + 0.5) * inSize / outSize - 0.5, vec2(0.0), inSize - 1.0); }

// the CAM at the model input (u_cam holds it at u_camSize == u_inputSize), back to the slice
float heatAt(vec2 q) {
  vec2 p = srcPos(q, u_inputSize, u_imgSize);
  vec2 f = floor(p); vec2 t = p - f; ivec2 i = ivec2(f);
  return mix(mix(cam(i), cam(i + ivec2(1, 0)), t.x), mix(cam(i + ivec2(0, 1)), cam(i + ivec2(1, 1)), t.x), t.y);
}

void main() {
  vec2 px = vec2(gl_FragCoord.x, u_canvas.y - gl_FragCoord.y);          // top-down buffer pixels
  vec2 d = (px - u_canvas * 0.5 - u_pan) / u_zoom;
  // image coordinates (pixel edges): M's transpose is its inverse (flips and quarter turns)
  vec2 q = vec2(u_m.x * d.x + u_m.z * d.y, u_m.y * d.x + u_m.w * d.y) + u_imgSize * 0.5;
  if (q.x < 0.0 || q.y < 0.0 || q.x >= u_imgSize.x || q.y >= u_imgSize.y) { outColor = vec4(0.0, 0.0, 0.0, 1.0); return; }
  vec2 c = q - 0.5;                                                      // pixel-centre coordinates
  vec2 f = floor(c); vec2 t = c - f; ivec2 i = ivec2(f);
  vec3 v = mix(mix(img(i), img(i + ivec2(1, 0)), t.x), mix(img(i + ivec2(0, 1)), img(i + ivec2(1, 1)), t.x), t.y);
  float w = max(u_width, 1.0);
  vec3 rgb = clamp((v - (u_center - 0.5)) / (w - 1.0) + 0.5, 0.0, 1.0);
  if (u_invert) rgb = 1.0 - rgb;
  if (u_heatOn) {
    float h = heatAt(clamp(c, vec2(0.0), u_imgSize - 1.0)) / u_heatScale;
    if (h >= u_threshold && h > 0.0) {
      vec3 col = texelFetch(u_lut, ivec2(int(clamp(h, 0.0, 1.0) * 255.0 + 0.5), 0), 0).rgb;
      rgb = mix(rgb, col, u_opacity);
    }
  }
  outColor = vec4(rgb, 1.0);
}`;

function compile(gl: WebGL2RenderingContext, type: number, src: string): WebGLShader {
  const s = gl.createShader(type) as WebGLShader;
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(s) ?? ''}`);
  return s;
}

/** The GL objects one context holds; made again when a lost context is restored. */
interface GlResources {
  prog: WebGLProgram;
  imgTex: WebGLTexture;
  camTex: WebGLTexture;
  lutTex: WebGLTexture;
  loc: Record<string, WebGLUniformLocation | null>;
}

function createResources(gl: WebGL2RenderingContext): GlResources {
  const prog = gl.createProgram() as WebGLProgram;
  gl.attachShader(prog, compile(gl, gl.VERTEX_SHADER, VS));
  gl.attachShader(prog, compile(gl, gl.FRAGMENT_SHADER, FS));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`program: ${gl.getProgramInfoLog(prog) ?? ''}`);
  gl.useProgram(prog);
  const buf = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, buf);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  const a = gl.getAttribLocation(prog, 'a_pos');
  gl.enableVertexAttribArray(a);
  gl.vertexAttribPointer(a, 2, gl.FLOAT, false, 0, 0);
  const loc: Record<string, WebGLUniformLocation | null> = {};
  for (const n of ['u_img', 'u_colour', 'u_texScale', 'u_imgSize', 'u_canvas', 'u_zoom', 'u_pan', 'u_m', 'u_center', 'u_width', 'u_invert', 'u_heatOn', 'u_cam', 'u_camSize', 'u_inputSize', 'u_heatScale', 'u_lut', 'u_opacity', 'u_threshold']) loc[n] = gl.getUniformLocation(prog, n);
  const tex = (unit: number) => {
    const t = gl.createTexture() as WebGLTexture;
    gl.activeTexture(gl.TEXTURE0 + unit);
    gl.bindTexture(gl.TEXTURE_2D, t);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return t;
  };
  const res = { prog, imgTex: tex(0), camTex: tex(1), lutTex: tex(2), loc };
  gl.uniform1i(loc.u_img, 0);
  gl.uniform1i(loc.u_cam, 1);
  gl.uniform1i(loc.u_lut, 2);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  return res;
}

/**
 * The context can be lost (a GPU reset, a driver update, the OS reclaiming the GPU on sleep or
 * on a laptop's GPU switch): everything it held is gone and the canvas stays black. The renderer
 * keeps what it was showing, asks the browser to restore the context (preventDefault on the loss),
 * and on restore makes its GL objects again, uploads the slice and heatmap and draws the last view.
 */
export class GlSliceRenderer implements SliceRenderer {
  readonly kind = 'webgl2' as const;
  private readonly gl: WebGL2RenderingContext;
  private res: GlResources | null;
  private slice: SliceData | null = null;
  private heat: HeatState | null = null;
  private lutName = '';
  private lastView: ViewState | null = null;
  private readonly onLost = (e: Event) => {
    e.preventDefault(); // without it the browser never restores the context
    this.res = null;
    this.onContextChange?.(false);
  };
  private readonly onRestored = () => {
    try {
      this.res = createResources(this.gl);
    } catch {
      // lost again while restoring, or the driver refuses the shaders now: the next restore retries,
      // and until then the viewport keeps saying it is lost
      this.res = null;
      return;
    }
    this.lutName = '';
    this.setSlice(this.slice);
    this.setHeat(this.heat);
    if (this.lastView) this.render(this.lastView);
    this.onContextChange?.(true);
  };

  /** Throws when WebGL2 is unavailable (the caller falls back to Canvas2D). */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** Told when the GPU context is lost (false) and back (true). */
    private readonly onContextChange?: (ok: boolean) => void,
  ) {
    // preserveDrawingBuffer: the pixels stay readable (screenshots, the e2e tests' pixel checks)
    const gl = canvas.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false, premultipliedAlpha: false });
    if (!gl) throw new Error('WebGL2 unavailable');
    this.gl = gl;
    this.res = createResources(gl);
    canvas.addEventListener('webglcontextlost', this.onLost);
    canvas.addEventListener('webglcontextrestored', this.onRestored);
  }

  setSlice(s: SliceData | null): void {
    this.slice = s;
    const res = this.res;
    if (!s || !res) return;
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, res.imgTex);
    if (s.samples === 3) {
      // 8-bit colour as it is kept (RGB8, read back as v/255 and scaled up in the shader), deeper colour as float
      if (s.rgb instanceof Uint8Array) gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB8, s.columns, s.rows, 0, gl.RGB, gl.UNSIGNED_BYTE, s.rgb);
      else gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB32F, s.columns, s.rows, 0, gl.RGB, gl.FLOAT, s.rgb);
      return;
    }
    // R32F from float32 (int16 slices converted here, per upload, not kept twice)
    const values = s.values instanceof Float32Array ? s.values : Float32Array.from(s.values);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, s.columns, s.rows, 0, gl.RED, gl.FLOAT, values);
  }

  setHeat(h: HeatState | null): void {
    this.heat = h;
    const res = this.res;
    if (!h || !res) return;
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, res.camTex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, h.inputW, h.inputH, 0, gl.RED, gl.FLOAT, resizeBilinear(h.cam, h.camH, h.camW, h.inputH, h.inputW));
    if (this.lutName !== h.style.colormap) {
      this.lutName = h.style.colormap;
      gl.activeTexture(gl.TEXTURE2);
      gl.bindTexture(gl.TEXTURE_2D, res.lutTex);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB8, 256, 1, 0, gl.RGB, gl.UNSIGNED_BYTE, colormapLut(h.style.colormap));
    }
  }

  render(view: ViewState): void {
    this.lastView = view;
    const res = this.res;
    if (!res) return;
    const { loc, prog } = res;
    const gl = this.gl;
    const c = this.canvas;
    gl.viewport(0, 0, c.width, c.height);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    const s = this.slice;
    if (!s) return;
    gl.useProgram(prog);
    const dpr = c.width / Math.max(1, c.clientWidth);
    gl.uniform1i(loc.u_colour, s.samples === 3 ? 1 : 0);
    gl.uniform1f(loc.u_texScale, s.samples === 3 && s.rgb instanceof Uint8Array ? 255 : 1);
    gl.uniform2f(loc.u_imgSize, s.columns, s.rows);
    gl.uniform2f(loc.u_canvas, c.width, c.height);
    gl.uniform1f(loc.u_zoom, view.zoom * dpr);
    gl.uniform2f(loc.u_pan, view.panX * dpr, view.panY * dpr);
    gl.uniform4f(loc.u_m, ...viewMatrix(view));
    gl.uniform1f(loc.u_center, view.center);
    gl.uniform1f(loc.u_width, view.width);
    gl.uniform1i(loc.u_invert, view.invert ? 1 : 0);
    const h = this.heat;
    gl.uniform1i(loc.u_heatOn, h ? 1 : 0);
    if (h) {
      gl.uniform2f(loc.u_camSize, h.inputW, h.inputH);
      gl.uniform2f(loc.u_inputSize, h.inputW, h.inputH);
      gl.uniform1f(loc.u_heatScale, h.scale > 0 ? h.scale : 1);
      gl.uniform1f(loc.u_opacity, h.style.opacity);
      gl.uniform1f(loc.u_threshold, h.style.threshold);
    }
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  dispose(): void {
    this.canvas.removeEventListener('webglcontextlost', this.onLost);
    this.canvas.removeEventListener('webglcontextrestored', this.onRestored);
    const res = this.res;
    if (!res) return;
    const gl = this.gl;
    gl.deleteTexture(res.imgTex);
    gl.deleteTexture(res.camTex);
    gl.deleteTexture(res.lutTex);
    gl.deleteProgram(res.prog);
  }
}
