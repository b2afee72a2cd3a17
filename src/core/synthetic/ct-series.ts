/**
 * Synthetic CT series written as real DICOM files: the input of the ingest benchmark, the
 * series-assembly tests (shuffled names, tilt, gaps, localizers) and the demo fallback.
 * A simple thorax-like phantom in HU (body, lungs, spine, a nodule) with seeded noise; the
 * realistic phantom for training lives in training/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SimpleElement } from '../dicom/write-simple';
import { writePart10 } from '../dicom/write-simple';

export interface SyntheticSeriesOptions {
  slices: number;
  rows?: number;
  columns?: number;
  /** mm */
  pixelSpacing?: number;
  /** mm between slice centers */
  sliceSpacing?: number;
  seed?: number;
  /** Gantry tilt, degrees: image planes tilted about the patient x axis while the table moves in z. */
  tiltDeg?: number;
  /** Fully oblique orientation (row/column cosines rotated about z and x). */
  oblique?: boolean;
  /** Row and column direction cosines (LPS) instead of axial ones, e.g. [[0, 1, 0], [0, 0, -1]] for a sagittal stack. */
  orientation?: [number[], number[]];
  /** Slice indices to leave out (a gap). */
  omit?: number[];
  /** Add one coronal LOCALIZER image to the series. */
  localizer?: boolean;
  /** Write files under random names, so that name order is not slice order. */
  shuffleNames?: boolean;
  /** Leave out ImagePositionPatient/ImageOrientationPatient (InstanceNumber fallback). */
  noPosition?: boolean;
  transferSyntaxUid?: string;
  /** false: write raw data sets (no preamble, DICM prefix or File Meta), as some old archives hold. */
  preamble?: boolean;
  seriesInstanceUid?: string;
  studyInstanceUid?: string;
  patientName?: string;
  /** EchoNumbers (0018,0086) of every slice (a multi-echo series is several such series under one UID). */
  echoNumber?: number;
  /** File names `<namePrefix><n>.dcm`, n = 1.. without padding (names that sort IMG1, IMG11, IMG2). */
  namePrefix?: string;
}

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const UID_ROOT = '1.2.826.0.1.3680043.10.1453';

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One axial phantom slice, stored values (HU + 1024) as Int16. */
export function phantomSlice(rows: number, columns: number, z: number, random: () => number): Int16Array {
  const out = new Int16Array(rows * columns);
  const cx = columns / 2;
  const cy = rows / 2;
  const ax = columns * 0.42;
  const ay = rows * 0.3 * (1 + 0.05 * Math.sin(z / 40));
  const lungX = columns * 0.17;
  const lungY = rows * 0.19;
  const noduleZ = Math.abs(z - 20) < 6;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const dx = (x - cx) / ax;
      const dy = (y - cy) / ay;
      let hu = -1000;
      if (dx * dx + dy * dy <= 1) {
        hu = dx * dx + dy * dy > 0.85 ? -100 : 40;
        for (const side of [-1, 1]) {
          const lx = (x - (cx + side * columns * 0.2)) / lungX;
          const ly = (y - (cy - rows * 0.02)) / lungY;
          if (lx * lx + ly * ly <= 1) hu = -850;
        }
        const sx = (x - cx) / (columns * 0.05);
        const sy = (y - (cy + rows * 0.2)) / (rows * 0.05);
        if (sx * sx + sy * sy <= 1) hu = 700;
        if (noduleZ) {
          const nx = (x - (cx + columns * 0.2)) / (columns * 0.02);
          const ny = (y - cy) / (rows * 0.02);
          if (nx * nx + ny * ny <= 1) hu = 30;
        }
      }
      const noise = (random() + random() + random() - 1.5) * 20;
      out[y * columns + x] = Math.round(hu + noise) + 1024;
    }
  }
  return out;
}

function rotX(v: number[], deg: number): number[] {
  const r = (deg * Math.PI) / 180;
  return [v[0], v[1] * Math.cos(r) - v[2] * Math.sin(r), v[1] * Math.sin(r) + v[2] * Math.cos(r)];
}

function rotZ(v: number[], deg: number): number[] {
  const r = (deg * Math.PI) / 180;
  return [v[0] * Math.cos(r) - v[1] * Math.sin(r), v[0] * Math.sin(r) + v[1] * Math.cos(r), v[2]];
}

const fmt = (n: number) => {
  const s = Number(n.toFixed(6)).toString();
  return s.length > 16 ? n.toPrecision(10) : s;
};

export interface WrittenSeries {
  dir: string;
  files: string[];
  seriesInstanceUid: string;
  studyInstanceUid: string;
  /** ImagePositionPatient (mm) of each axial slice in spatial order, as written (omitted ones excluded). */
  positions: number[][];
}

/** Write a synthetic CT series into `dir` (which must be a folder the caller owns). */
export function writeSyntheticSeries(dir: string, o: SyntheticSeriesOptions): WrittenSeries {
  const rows = o.rows ?? 512;
  const columns = o.columns ?? 512;
  const ps = o.pixelSpacing ?? 0.7;
  const spacing = o.sliceSpacing ?? 2.5;
  const seed = o.seed ?? 1;
  const random = rng(seed);
  const studyUid = o.studyInstanceUid ?? `${UID_ROOT}.1.${seed}`;
  const seriesUid = o.seriesInstanceUid ?? `${UID_ROOT}.2.${seed}.${o.slices}`;
  const frameUid = `${UID_ROOT}.3.${seed}`;
  fs.mkdirSync(dir, { recursive: true });
  let row = o.orientation ? [...o.orientation[0]] : [1, 0, 0];
  let col = o.orientation ? [...o.orientation[1]] : [0, 1, 0];
  if (o.tiltDeg) {
    row = rotX(row, o.tiltDeg);
    col = rotX(col, o.tiltDeg);
  }
  if (o.oblique) {
    row = rotX(rotZ(row, 20), 15);
    col = rotX(rotZ(col, 20), 15);
  }
  const normal = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
  const files: string[] = [];
  const positions: number[][] = [];
  const order = Array.from({ length: o.slices }, (_, i) => i);
  const names = order.map((i) => (o.shuffleNames ? `${Math.floor(random() * 1e9).toString(36)}_${i}.dcm` : o.namePrefix !== undefined ? `${o.namePrefix}${i + 1}.dcm` : `slice_${String(i + 1).padStart(4, '0')}.dcm`));
  const base = [-(columns * ps) / 2, -(rows * ps) / 2, -100];
  const common = (sopUid: string, instance: number): SimpleElement[] => [
    { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' },
    { tag: 0x00080016, vr: 'UI', value: CT_IMAGE_STORAGE },
    { tag: 0x00080018, vr: 'UI', value: sopUid },
    { tag: 0x00080020, vr: 'DA', value: '20260101' },
    { tag: 0x00080030, vr: 'TM', value: '120000' },
    { tag: 0x00080060, vr: 'CS', value: 'CT' },
    { tag: 0x00081030, vr: 'LO', value: 'Synthetic thorax' },
    { tag: 0x0008103e, vr: 'LO', value: 'Axial 2.5mm (synthetic)' },
    { tag: 0x00100010, vr: 'PN', value: o.patientName ?? 'Phantom^Synthetic' },
    { tag: 0x00100020, vr: 'LO', value: `SYN${seed}` },
    { tag: 0x00180050, vr: 'DS', value: fmt(spacing) },
    { tag: 0x0020000d, vr: 'UI', value: studyUid },
    { tag: 0x0020000e, vr: 'UI', value: seriesUid },
    { tag: 0x00200011, vr: 'IS', value: '2' },
    { tag: 0x00200013, vr: 'IS', value: String(instance) },
    { tag: 0x00200052, vr: 'UI', value: frameUid },
    { tag: 0x00280002, vr: 'US', value: 1 },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280100, vr: 'US', value: 16 },
    { tag: 0x00280101, vr: 'US', value: 16 },
    { tag: 0x00280102, vr: 'US', value: 15 },
    { tag: 0x00280103, vr: 'US', value: 1 },
    { tag: 0x00281050, vr: 'DS', value: '40' },
    { tag: 0x00281051, vr: 'DS', value: '400' },
    { tag: 0x00281052, vr: 'DS', value: '-1024' },
    { tag: 0x00281053, vr: 'DS', value: '1' },
    { tag: 0x00281054, vr: 'LO', value: 'HU' },
  ];
  // Every file of the series (the localizer included) is written the same way.
  const encoding = (sopInstanceUid: string) => {
    const e: Parameters<typeof writePart10>[1] = { sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid };
    if (o.transferSyntaxUid) e.transferSyntaxUid = o.transferSyntaxUid;
    if (o.preamble === false) e.preamble = false;
    return e;
  };
  for (const i of order) {
    if (o.omit?.includes(i)) continue;
    // Table moves along patient z; with tilt the image plane is rotated but still advances in z.
    const pos = o.tiltDeg ? [base[0], base[1], base[2] + i * spacing] : [base[0] + normal[0] * i * spacing, base[1] + normal[1] * i * spacing, base[2] + normal[2] * i * spacing];
    positions.push(pos);
    const sopUid = `${UID_ROOT}.4.${seed}.${o.slices}.${i + 1}`;
    const els = common(sopUid, i + 1);
    els.push({ tag: 0x00080008, vr: 'CS', value: 'ORIGINAL\\PRIMARY\\AXIAL' });
    if (o.echoNumber !== undefined) els.push({ tag: 0x00180086, vr: 'IS', value: String(o.echoNumber) });
    els.push({ tag: 0x00280010, vr: 'US', value: rows }, { tag: 0x00280011, vr: 'US', value: columns });
    els.push({ tag: 0x00280030, vr: 'DS', value: `${fmt(ps)}\\${fmt(ps)}` });
    if (!o.noPosition) {
      els.push({ tag: 0x00200032, vr: 'DS', value: pos.map(fmt) });
      els.push({ tag: 0x00200037, vr: 'DS', value: [...row, ...col].map(fmt) });
    }
    els.push({ tag: 0x7fe00010, vr: 'OW', value: phantomSlice(rows, columns, i * spacing, random) });
    const file = path.join(dir, names[i]);
    fs.writeFileSync(file, writePart10(els, encoding(sopUid)));
    files.push(file);
  }
  if (o.localizer) {
    const sopUid = `${UID_ROOT}.5.${seed}`;
    const els = common(sopUid, 0);
    const lr = 256;
    els.push({ tag: 0x00080008, vr: 'CS', value: 'ORIGINAL\\PRIMARY\\LOCALIZER' });
    els.push({ tag: 0x00280010, vr: 'US', value: lr }, { tag: 0x00280011, vr: 'US', value: lr });
    els.push({ tag: 0x00280030, vr: 'DS', value: '1.5\\1.5' });
    els.push({ tag: 0x00200032, vr: 'DS', value: '-192\\0\\100' });
    els.push({ tag: 0x00200037, vr: 'DS', value: '1\\0\\0\\0\\0\\-1' });
    els.push({ tag: 0x7fe00010, vr: 'OW', value: phantomSlice(lr, lr, 0, random) });
    const file = path.join(dir, 'scout.dcm');
    fs.writeFileSync(file, writePart10(els, encoding(sopUid)));
    files.push(file);
  }
  return { dir, files, seriesInstanceUid: seriesUid, studyInstanceUid: studyUid, positions };
}
