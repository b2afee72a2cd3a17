/**
 * DICOM Comprehensive SR (PS3.3 A.35.3) with the findings, laid out after TID 1500 (Measurement
 * Report) where it fits: observer context (the algorithm as a device observer, the reviewer as a
 * person), an image library of the key slices, and one measurement group per finding with its
 * tracking identifiers, finding class, probability, operating threshold, reviewer decision and
 * comment, the slices it spans (IMAGE references by SOP Instance UID) and its in-plane location
 * (SCOORD POINT on the key slice), and where the review stands in words (a draft, and why, or
 * signed off: the PDF's DRAFT line). The algorithm is identified as in TID 4019 (name, version) plus
 * the weights' sha256. Concepts DICOM has no code for (AI probability, review decisions, the
 * classes of a bring-your-own model) use the private scheme 99RESIGHT; because of those, the
 * document does not declare TID 1500 in Content Template Sequence.
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../../shared/analysis';
import { ellipseOf } from '../../shared/roi';
import type { ReportContext } from './context';
import { CALIBRATION_NOTE, draftReasons, findingLabels, imageRangeText, reviewedFindings, reviewStatus, sliceRangeOf } from './context';
import { toPersonName } from './person-name';
import type { Code, NaturalDataset } from './dicom-write';
import { codeItem, derivedUid, dicomDateTime, encodePart10 } from './dicom-write';
import { algorithmUid, derivedObject, RESIGHT_SCHEME } from './dicom-modules';

export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
/** Comprehensive 3D SR: what an SR with 3-D coordinates (a measurement drawn on a reformat) must be. */
export const COMPREHENSIVE_3D_SR = '1.2.840.10008.5.1.4.1.1.88.34';

const DCM = (value: string, meaning: string): Code => ({ value, scheme: 'DCM', meaning });
const RS = (value: string, meaning: string): Code => ({ value, scheme: RESIGHT_SCHEME, meaning });

const C = {
  report: DCM('126000', 'Imaging Measurement Report'),
  language: DCM('121049', 'Language of Content Item and Descendants'),
  observerType: DCM('121005', 'Observer Type'),
  device: DCM('121007', 'Device'),
  person: DCM('121006', 'Person'),
  deviceUid: DCM('121012', 'Device Observer UID'),
  deviceName: DCM('121013', 'Device Observer Name'),
  deviceManufacturer: DCM('121014', 'Device Observer Manufacturer'),
  deviceModel: DCM('121015', 'Device Observer Model Name'),
  personName: DCM('121008', 'Person Observer Name'),
  procedure: DCM('121058', 'Procedure reported'),
  imageLibrary: DCM('111028', 'Image Library'),
  imageLibraryGroup: DCM('126200', 'Image Library Group'),
  measurements: DCM('126010', 'Imaging Measurements'),
  group: DCM('125007', 'Measurement Group'),
  trackingId: DCM('112039', 'Tracking Identifier'),
  trackingUid: DCM('112040', 'Tracking Unique Identifier'),
  finding: DCM('121071', 'Finding'),
  algorithmName: DCM('111001', 'Algorithm Name'),
  algorithmVersion: DCM('111003', 'Algorithm Version'),
  comment: DCM('121106', 'Comment'),
  impression: DCM('121073', 'Impression'),
  sourceImage: DCM('121112', 'Source of Measurement'),
  imageRegion: DCM('111030', 'Image Region'),
  probability: RS('AIPROB', 'AI probability'),
  threshold: RS('AITHRESH', 'AI operating threshold'),
  sliceRange: RS('SLICES', 'Slice range'),
  decision: RS('REVDEC', 'Reviewer decision'),
  origin: RS('ORIGIN', 'Finding origin'),
  modelSha: RS('MODELSHA', 'Model SHA-256'),
  disclaimer: RS('DISCLAIMER', 'Intended use and disclaimer'),
  reviewStatus: RS('REVSTATUS', 'Review status'),
  // the reviewer's measurements (TID 1410 planar ROI, TID 1419 ROI measurements)
  length: { value: '410668003', scheme: 'SCT', meaning: 'Length' } as Code,
  // a bidirectional measurement (RECIST): the longest diameter and the longest perpendicular to it
  longAxis: { value: '103339001', scheme: 'SCT', meaning: 'Long Axis' } as Code,
  shortAxis: { value: '103340004', scheme: 'SCT', meaning: 'Short Axis' } as Code,
  area: { value: '42798000', scheme: 'SCT', meaning: 'Area' } as Code,
  attenuation: DCM('112031', 'Attenuation Coefficient'),
  pixelValue: RS('PIXVAL', 'Pixel value'),
  luminance: RS('LUMA', 'Luminance (Rec. 601) of a colour image'),
  derivation: DCM('121401', 'Derivation'),
};
const DERIVATIONS = {
  mean: { value: '373098007', scheme: 'SCT', meaning: 'Mean' } as Code,
  sd: { value: '386136009', scheme: 'SCT', meaning: 'Standard Deviation' } as Code,
  min: { value: '255605001', scheme: 'SCT', meaning: 'Minimum' } as Code,
  max: { value: '56851009', scheme: 'SCT', meaning: 'Maximum' } as Code,
};
const UNITS = {
  mm: { value: 'mm', scheme: 'UCUM', meaning: 'millimeter' } as Code,
  mm2: { value: 'mm2', scheme: 'UCUM', meaning: 'square millimeter' } as Code,
  hu: { value: "[hnsf'U]", scheme: 'UCUM', meaning: 'Hounsfield unit' } as Code,
  px: { value: '{pixels}', scheme: 'UCUM', meaning: 'pixels' } as Code,
  // a UCUM annotation takes no exponent: the square goes inside it
  px2: { value: '{pixels^2}', scheme: 'UCUM', meaning: 'square pixels' } as Code,
};

const DECISIONS: Record<string, Code> = {
  accepted: RS('ACCEPTED', 'Accepted by reviewer'),
  rejected: RS('REJECTED', 'Rejected by reviewer'),
  edited: RS('EDITED', 'Edited by reviewer'),
  pending: RS('PENDING', 'Not reviewed'),
};
const FROM_MODEL = RS('MODEL', 'Detected by the AI model');
const FROM_REVIEWER = RS('REVIEWER', 'Added by the reviewer');
const ENGLISH: Code = { value: 'en-US', scheme: 'RFC5646', meaning: 'English (United States)' };
/** Procedure reported (TID 1500, extensible CID 100), by the series' modality: the imaging
 * procedure's SNOMED code for CT and MR, else the modality's own code (CID 29). */
const PROCEDURES: Record<string, Code> = {
  CT: { value: '77477000', scheme: 'SCT', meaning: 'Computed Tomography' },
  MR: { value: '113091000', scheme: 'SCT', meaning: 'Magnetic Resonance Imaging' },
};
const MODALITY_NAMES: Record<string, string> = { CR: 'Computed Radiography', DX: 'Digital Radiography', MG: 'Mammography', US: 'Ultrasound', NM: 'Nuclear Medicine', PT: 'Positron emission tomography', XA: 'X-Ray Angiography', RF: 'Radio Fluoroscopy', OT: 'Other' };
export function procedureCode(modality: string): Code {
  return PROCEDURES[modality] ?? (MODALITY_NAMES[modality] ? DCM(modality, MODALITY_NAMES[modality]) : DCM('OT', 'Other'));
}
const NO_UNITS: Code = { value: '1', scheme: 'UCUM', meaning: 'no units' };

/** A class as a 99RESIGHT code: its name when it fits SH (16 characters, A-Z0-9_), else a prefix plus a hash, so distinct classes never share a code. */
export function classCode(cls: string): Code {
  const plain = cls.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const value = plain === cls.toUpperCase() && plain.length <= 16 ? plain : `${plain.slice(0, 9)}_${createHash('sha256').update(cls).digest('hex').slice(0, 6).toUpperCase()}`;
  return RS(value, cls.replace(/_/g, ' '));
}

type Item = NaturalDataset;
const container = (rel: string | null, name: Code, children: Item[]): Item => ({
  ...(rel ? { RelationshipType: rel } : {}),
  ValueType: 'CONTAINER',
  ConceptNameCodeSequence: [codeItem(name)],
  ContinuityOfContent: 'SEPARATE',
  ContentSequence: children,
});
const text = (rel: string, name: Code, value: string): Item => ({ RelationshipType: rel, ValueType: 'TEXT', ConceptNameCodeSequence: [codeItem(name)], TextValue: value });
const code = (rel: string, name: Code, value: Code): Item => ({ RelationshipType: rel, ValueType: 'CODE', ConceptNameCodeSequence: [codeItem(name)], ConceptCodeSequence: [codeItem(value)] });
const uidref = (rel: string, name: Code, value: string): Item => ({ RelationshipType: rel, ValueType: 'UIDREF', ConceptNameCodeSequence: [codeItem(name)], UID: value });
const num = (rel: string, name: Code, value: number, units: Code): Item => ({
  RelationshipType: rel,
  ValueType: 'NUM',
  ConceptNameCodeSequence: [codeItem(name)],
  MeasuredValueSequence: [{ NumericValue: Number(value.toPrecision(6)), MeasurementUnitsCodeSequence: [codeItem(units)] }],
});

export interface SrObject {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  bytes: Uint8Array;
}

export function structuredReport(ctx: ReportContext, exportId: string): SrObject {
  const { date, time } = dicomDateTime(ctx.createdAt);
  const sopInstanceUid = derivedUid('resight-sr', exportId, ctx.series.seriesInstanceUid);
  const seriesInstanceUid = derivedUid('resight-sr-series', exportId, ctx.series.seriesInstanceUid);
  const slices = ctx.analysis.slices;
  // the instances whose headers the report read (key images, measured slices) say their class; any
  // other slice is taken to share the series' class
  const sopClassOf = (sop: string) =>
    ctx.keyImages.find((k) => k.sopInstanceUid === sop)?.sopClassUid ??
    ctx.measurements.find((m) => m.sopInstanceUid === sop)?.sopClassUid ??
    ctx.series.sopClassUid ??
    ctx.keyImages[0]?.sopClassUid ??
    '1.2.840.10008.5.1.4.1.1.2';
  const imageRef = (rel: string, name: Code | null, sliceIndex: number): Item | null => {
    const s = slices[sliceIndex];
    if (!s) return null;
    const ref: NaturalDataset = { ReferencedSOPClassUID: sopClassOf(s.sopInstanceUid), ReferencedSOPInstanceUID: s.sopInstanceUid };
    if (s.frame > 0 || ctx.series.multiFrameSops?.includes(s.sopInstanceUid)) ref.ReferencedFrameNumber = String(s.frame + 1);
    return { RelationshipType: rel, ValueType: 'IMAGE', ...(name ? { ConceptNameCodeSequence: [codeItem(name)] } : {}), ReferencedSOPSequence: [ref] };
  };
  const labels = findingLabels(ctx);
  const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);

  const group = (
    id: string,
    cls: string,
    origin: Code,
    sliceStart: number,
    sliceEnd: number,
    keySlice: number,
    centroid: [number, number] | null | undefined,
    f: Finding | null,
    decision: Code,
    comment: string | undefined,
  ): Item => {
    const children: Item[] = [
      // the label people read the finding by (the PDF's F1), then the internal id; the UID is for
      // machines, the same finding's in every export of the same analysis (TID 4108: it tracks a
      // finding across reports; a de-identified export's series UID is new, so its UIDs are too)
      text('HAS OBS CONTEXT', C.trackingId, labels.has(id) ? `${labels.get(id)} (${id})` : id),
      uidref('HAS OBS CONTEXT', C.trackingUid, derivedUid('resight-finding', ctx.series.seriesInstanceUid, ctx.model.sha256, id)),
      code('CONTAINS', C.finding, classCode(cls)),
      code('CONTAINS', C.origin, origin),
    ];
    if (f) {
      // the probability is the run's highest: INFERRED FROM its slices (TID 300's Source of
      // Measurement), the images that are the finding
      const sources = range(sliceStart, sliceEnd).map((i) => imageRef('INFERRED FROM', C.sourceImage, i)).filter((x): x is Item => x !== null);
      children.push(
        { ...num('CONTAINS', C.probability, f.score, NO_UNITS), ...(sources.length ? { ContentSequence: sources } : {}) },
        num('CONTAINS', C.threshold, f.threshold, NO_UNITS),
        // TID 4019 Algorithm Identification: concept modifiers of the group
        text('HAS CONCEPT MOD', C.algorithmName, ctx.model.name),
        text('HAS CONCEPT MOD', C.algorithmVersion, ctx.model.version),
        text('CONTAINS', C.modelSha, ctx.model.sha256),
      );
    }
    // the report's numbers (from 1 in reading order), the InstanceNumbers, and the 0-based indices the JSON gives
    const ims = imageRangeText(ctx, sliceStart, sliceEnd);
    children.push(text('CONTAINS', C.sliceRange, `${sliceRangeOf(ctx, sliceStart, sliceEnd)} (numbered from 1 as the report does${ims ? `; ${ims}` : ''}; ${sliceStart}-${sliceEnd} counted from 0 in position order)`), code('CONTAINS', C.decision, decision));
    if (comment) children.push(text('CONTAINS', C.comment, comment));
    const key = imageRef('SELECTED FROM', null, keySlice);
    if (centroid && key) {
      children.push({
        RelationshipType: 'CONTAINS',
        ValueType: 'SCOORD',
        ConceptNameCodeSequence: [codeItem(C.imageRegion)],
        GraphicType: 'POINT',
        // SCOORD: (0,0) is the top-left corner of the top-left pixel, so a pixel's centre is +0.5
        GraphicData: [centroid[0] + 0.5, centroid[1] + 0.5],
        ContentSequence: [key],
      });
    }
    return container('CONTAINS', C.group, children);
  };

  const groups: Item[] = reviewedFindings(ctx).map(({ finding: f, review }) =>
    group(f.id, f.class, FROM_MODEL, f.sliceStart, f.sliceEnd, f.keySlice, f.centroid, f, DECISIONS[review?.decision ?? 'pending'] ?? DECISIONS.pending, review?.comment),
  );
  for (const a of ctx.added) {
    groups.push(group(a.id, a.class, FROM_REVIEWER, a.sliceStart, a.sliceEnd, Math.round((a.sliceStart + a.sliceEnd) / 2), a.centroid, null, DECISIONS.accepted, a.comment));
  }
  // the reviewer's measurements: a length as TID 300 has it (NUM Length INFERRED FROM its POLYLINE,
  // which is SELECTED FROM the slice), a bidirectional one as two such NUMs (Long Axis, Short
  // Axis), an ellipse ROI as TID 1410 (the Image Region ELLIPSE, then
  // the values measured in it)
  // a measurement on a reformat lies in no image: its coordinates are 3-D, in the series' frame of
  // reference (SCOORD3D), which only Comprehensive 3D SR may hold
  const frameOfReference = ctx.series.frameOfReferenceUid;
  let threeD = false;
  for (const m of ctx.measurements) {
    const on = m.sliceIndex !== undefined ? imageRef('SELECTED FROM', null, m.sliceIndex) : null;
    const place = m.reformat;
    if (!on && !place) continue;
    const children: Item[] = [
      text('HAS OBS CONTEXT', C.trackingId, m.id),
      uidref('HAS OBS CONTEXT', C.trackingUid, derivedUid('resight-measurement', ctx.series.seriesInstanceUid, m.id)),
      code('CONTAINS', C.origin, FROM_REVIEWER),
    ];
    if (place) children.push(text('CONTAINS', C.comment, `drawn on the ${place.plane} reformat of the series, position ${place.position} of ${place.count} (numbered from 1 in reading order, as ReSight shows it)`));
    /** Where in the image (SCOORD on the slice), or in the patient (SCOORD3D) for one on a reformat; null when a reformat's series has no frame of reference. */
    const region = (type: 'POLYLINE' | 'ELLIPSE', flat: number[], points: readonly (readonly number[])[]): Omit<Item, 'RelationshipType'> | null => {
      if (on) return { ValueType: 'SCOORD', GraphicType: type, GraphicData: flat, ContentSequence: [on] };
      if (!frameOfReference) return null;
      threeD = true;
      return { ValueType: 'SCOORD3D', GraphicType: type, GraphicData: points.flatMap((p) => [...p]), ReferencedFrameOfReferenceUID: frameOfReference };
    };
    const pts = place?.points ?? [];
    // a length, or each axis of a bidirectional measurement: NUM INFERRED FROM its POLYLINE
    const axis = (name: Code, value: { value: number; unit: 'mm' | 'px' }, p: readonly number[], q: readonly number[], p3: readonly (readonly number[])[]): Item => {
      const where = region('POLYLINE', [...p, ...q], p3);
      return { ...num('CONTAINS', name, value.value, value.unit === 'mm' ? UNITS.mm : UNITS.px), ...(where ? { ContentSequence: [{ RelationshipType: 'INFERRED FROM', ...where }] } : {}) };
    };
    if (m.kind === 'length' && m.length) {
      children.push(axis(C.length, m.length, m.a, m.b, pts.slice(0, 2)));
    } else if (m.kind === 'bidirectional' && m.length && m.shortAxis && m.c && m.d) {
      children.push(axis(C.longAxis, m.length, m.a, m.b, pts.slice(0, 2)), axis(C.shortAxis, m.shortAxis, m.c, m.d, pts.slice(2, 4)));
    } else if (m.kind === 'ellipse') {
      // ELLIPSE: the major axis' end points, then the minor axis' (PS3.3 C.18.6.1.2, C.18.9.1.2)
      const { cx, cy, rx, ry } = ellipseOf(m.a, m.b);
      const horizontal = [cx - rx, cy, cx + rx, cy];
      const vertical = [cx, cy - ry, cx, cy + ry];
      const where = region('ELLIPSE', rx >= ry ? [...horizontal, ...vertical] : [...vertical, ...horizontal], pts);
      if (where) children.push({ RelationshipType: 'CONTAINS', ConceptNameCodeSequence: [codeItem(C.imageRegion)], ...where });
      if (m.stats) {
        const quantity = m.valueUnit === 'HU' ? C.attenuation : m.luminance ? C.luminance : C.pixelValue;
        const units = m.valueUnit === 'HU' ? UNITS.hu : NO_UNITS;
        for (const [k, v] of [['mean', m.stats.mean], ['sd', m.stats.sd], ['min', m.stats.min], ['max', m.stats.max]] as const) {
          children.push({ ...num('CONTAINS', quantity, v, units), ContentSequence: [code('HAS CONCEPT MOD', C.derivation, DERIVATIONS[k])] });
        }
        children.push(num('CONTAINS', C.area, m.stats.area, m.stats.areaUnit === 'mm2' ? UNITS.mm2 : UNITS.px2));
      } else if (m.unmeasurable) children.push(text('CONTAINS', C.comment, `not measured: ${m.unmeasurable}`));
    }
    // mm from a calibration that is not PixelSpacing (a radiograph's detector, an ultrasound region): said, as the PDF says it
    if (m.pixelSpacingSource && m.pixelSpacingSource !== 'pixel') children.push(text('CONTAINS', C.comment, `mm ${CALIBRATION_NOTE[m.pixelSpacingSource]}`));
    groups.push(container('CONTAINS', C.group, children));
  }

  const observer: Item[] = [
    code('HAS OBS CONTEXT', C.observerType, C.device),
    uidref('HAS OBS CONTEXT', C.deviceUid, algorithmUid(ctx)),
    text('HAS OBS CONTEXT', C.deviceName, ctx.model.name),
    text('HAS OBS CONTEXT', C.deviceManufacturer, 'ReSight'),
    text('HAS OBS CONTEXT', C.deviceModel, `${ctx.model.name} ${ctx.model.version}`),
  ];
  const person = ctx.reviewer ? toPersonName(ctx.reviewer) : '';
  if (person) {
    observer.push(code('HAS OBS CONTEXT', C.observerType, C.person), { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'PNAME', ConceptNameCodeSequence: [codeItem(C.personName)], PersonName: person });
  }
  // whether the review is final, in words (as the PDF's DRAFT line): VerificationFlag is always
  // UNVERIFIED (a ReSight sign-off is no legal verification), so this is where a reader sees it
  const st = reviewStatus(ctx);
  const draft = draftReasons(st);
  const signedAt = ctx.signOff ? `${ctx.signOff.at.replace('T', ' ').slice(0, 19)} UTC` : '-';
  // a sign-off with findings still pending is recorded as one, and the report stays a draft
  const signedButOpen = ctx.signOff?.current ? ` Signed off in the viewer at ${signedAt}${ctx.signOff.reviewer ? ` by ${ctx.signOff.reviewer}` : ''}, not final while the above stands.` : '';
  const status = draft.length ? `Draft: ${draft.join('; ')}.${signedButOpen}` : `Signed off in the viewer at ${signedAt}${st.findings ? `; ${st.findings === 1 ? 'the AI finding' : `all ${st.findings} AI findings`} reviewed` : ''}.`;
  const library = ctx.keyImages.map((k) => imageRef('CONTAINS', null, k.sliceIndex)).filter((x): x is Item => x !== null);

  const content = container(null, C.report, [
    code('HAS CONCEPT MOD', C.language, ENGLISH),
    ...observer,
    code('HAS CONCEPT MOD', C.procedure, procedureCode(ctx.series.modality)),
    // TID 1600: the entries inside an Image Library Group
    ...(library.length ? [container('CONTAINS', C.imageLibrary, [container('CONTAINS', C.imageLibraryGroup, library)])] : []),
    // a container must not be empty (PS3.3 C.17.3.2.1): "nothing found" is said in words
    ...(groups.length ? [container('CONTAINS', C.measurements, groups)] : [text('CONTAINS', C.comment, 'No finding: the model flagged no slice above the operating thresholds and the reviewer added none.')]),
    // the reviewer's conclusion in their words, as a report's impression (DCM 121073)
    ...(ctx.impression ? [text('CONTAINS', C.impression, ctx.impression)] : []),
    text('CONTAINS', C.reviewStatus, status),
    text('CONTAINS', C.disclaimer, `${ctx.model.intendedUse} ${ctx.model.disclaimer}`.trim()),
  ]);

  // Current Requested Procedure Evidence: every instance the analysis read (the model scored them
  // all, so they are the evidence even where no finding references them), and any other the
  // content references
  const referenced = new Map<string, string>();
  for (const sl of slices) referenced.set(sl.sopInstanceUid, sopClassOf(sl.sopInstanceUid));
  const walk = (items: Item[]) => {
    for (const it of items) {
      const refs = it.ReferencedSOPSequence as NaturalDataset[] | undefined;
      for (const r of refs ?? []) referenced.set(r.ReferencedSOPInstanceUID as string, r.ReferencedSOPClassUID as string);
      walk((it.ContentSequence as Item[] | undefined) ?? []);
    }
  };
  walk([content]);

  const ds: NaturalDataset = {
    ...derivedObject(ctx, threeD ? COMPREHENSIVE_3D_SR : COMPREHENSIVE_SR, sopInstanceUid, 'SR', seriesInstanceUid, 9100, 'findings'),
    // declares the private coding scheme the content uses (PS3.3 C.12.1.1.4)
    CodingSchemeIdentificationSequence: [
      { CodingSchemeDesignator: RESIGHT_SCHEME, CodingSchemeName: 'ReSight concepts (AI output and review)', CodingSchemeResponsibleOrganization: 'ReSight' },
    ],
    ReferencedPerformedProcedureStepSequence: [],
    InstanceNumber: 1,
    // a draft (the review not complete: see draftReasons) is PARTIAL, the signed-off review COMPLETE
    CompletionFlag: draft.length ? 'PARTIAL' : 'COMPLETE',
    // LO (64): the reasons are in the Review status item
    CompletionFlagDescription: draft.length ? 'Draft: the review is not complete (see Review status)' : 'Signed off in the viewer, every AI finding reviewed',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: date,
    ContentTime: time,
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: ctx.study.studyInstanceUid,
        ReferencedSeriesSequence: [
          {
            SeriesInstanceUID: ctx.series.seriesInstanceUid,
            ReferencedSOPSequence: [...referenced].map(([sop, cls]) => ({ ReferencedSOPClassUID: cls, ReferencedSOPInstanceUID: sop })),
          },
        ],
      },
    ],
    ...content,
    // the root follows TID 1500 (Measurement Report): said, so readers that go by the template
    // (dcmqi, highdicom, OHIF) recognise it (PS3.3 C.18.8, Type 1C)
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
  };
  return { sopInstanceUid, seriesInstanceUid, bytes: encodePart10(ds) };
}
