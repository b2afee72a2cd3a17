/**
 * DICOM Secondary Capture (SC Image Storage, PS3.3 A.8.1): one RGB image per key slice with the
 * heatmap and annotations burned in, in the source study (same Study Instance UID, a new series),
 * referencing the source instance (Source Image Sequence). Burned In Annotation is YES: the
 * pixels carry the overlay and a caption saying it is AI output ("RESIGHT AI F1 LUNG NODULE
 * P 0.998 - NOT FOR DIAGNOSIS"), so a PACS shows exactly what the report shows. The images are
 * numbered in the order of the findings' labels (SC-001, Instance Number 1 = F1), and the
 * Derivation Description names the label and the slices counted from 1, as the PDF does.
 * Findings the reviewer rejected get no Secondary Capture: in a PACS, beside the study, a heatmap
 * with a score reads as a finding. The PDF keeps their key images, captioned as rejected, and the
 * SR and JSON keep the decision.
 */
import type { ReportContext, KeyImage } from './context';
import { findingLabels, isUnreviewed, keyImagesInLabelOrder, sliceNumberOf, sliceRangeOf } from './context';
import type { NaturalDataset } from './dicom-write';
import { codeItem, derivedUid, dicomDateTime, encodePart10 } from './dicom-write';
import { derivedObject } from './dicom-modules';
import type { CaptionReview } from './render';
import { captionFallbacks, keyImageCaption, renderKeyImage } from './render';
import { directionLetters } from '../../shared/orientation';

export const SC_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.7';
const SOURCE_FOR_PROCESSING = { value: '121322', scheme: 'DCM', meaning: 'Source image for image processing operation' };

export interface ScObject {
  findingId: string;
  sopInstanceUid: string;
  bytes: Uint8Array;
}

/** UIDs of one export's SC series: derived from the export id so a retry writes the same objects. */
export function scSeriesUid(ctx: ReportContext, exportId: string): string {
  return derivedUid('resight-sc-series', exportId, ctx.series.seriesInstanceUid);
}

/**
 * A key image as the exports render it (PDF and SC alike): its pixels with the AI caption, the
 * finding's label and the finding (undefined for a reviewer-added one).
 */
export function keyImageForExport(ctx: ReportContext, k: KeyImage, labels: Map<string, string> = findingLabels(ctx)): { image: KeyImage['image']; label: string | undefined; finding: ReportContext['analysis']['findings'][number] | undefined } {
  const finding = ctx.analysis.findings.find((f) => f.id === k.findingId);
  const label = labels.get(k.findingId);
  const added = finding ? undefined : ctx.added.find((a) => a.id === k.findingId);
  const cls = finding?.class ?? added?.class;
  const review = captionReview(ctx, k.findingId);
  return { image: { ...k.image, caption: keyImageCaption(label, cls, finding?.score, review), captionFallbacks: captionFallbacks(review) }, label, finding };
}

/** Where the review of a key image's finding stands, as its caption says it. */
export function captionReview(ctx: ReportContext, findingId: string): CaptionReview {
  if (ctx.added.some((a) => a.id === findingId)) return 'added';
  const r = ctx.reviews.find((x) => x.findingId === findingId);
  return !r || isUnreviewed(r) ? 'pending' : r.decision === 'rejected' ? 'rejected' : r.decision === 'edited' ? 'edited' : 'accepted';
}

/** The key images that become Secondary Captures, in label order: those of findings the reviewer did not reject. */
export function scKeyImages(ctx: ReportContext, labels: Map<string, string> = findingLabels(ctx)): KeyImage[] {
  return keyImagesInLabelOrder(ctx, labels).filter((k) => !ctx.reviews.some((r) => r.findingId === k.findingId && r.decision === 'rejected'));
}

const REVIEW_WORDS: Record<CaptionReview, string> = { accepted: 'accepted', edited: 'edited', rejected: 'rejected', pending: 'not reviewed', added: 'added' };

export function secondaryCaptures(ctx: ReportContext, exportId: string): ScObject[] {
  const seriesUid = scSeriesUid(ctx, exportId);
  const { date, time } = dicomDateTime(ctx.createdAt);
  const labels = findingLabels(ctx);
  return scKeyImages(ctx, labels).map((k: KeyImage, i) => {
    const { image, label, finding: f } = keyImageForExport(ctx, k, labels);
    const img = renderKeyImage(image);
    const sopInstanceUid = derivedUid('resight-sc', exportId, k.findingId, k.sopInstanceUid);
    const iop = k.image.imageOrientationPatient;
    const source: NaturalDataset = {
      ReferencedSOPClassUID: k.sopClassUid,
      ReferencedSOPInstanceUID: k.sopInstanceUid,
      PurposeOfReferenceCodeSequence: [codeItem(SOURCE_FOR_PROCESSING)],
    };
    if (k.frame > 0 || ctx.series.multiFrameSops?.includes(k.sopInstanceUid)) source.ReferencedFrameNumber = String(k.frame + 1);
    const ds: NaturalDataset = {
      // General Series (new series in the source study)
      ...derivedObject(ctx, SC_IMAGE_STORAGE, sopInstanceUid, 'OT', seriesUid, 9000, 'key images'),
      SeriesDate: date,
      SeriesTime: time,
      Laterality: '',
      // SC Equipment
      ConversionType: 'WSD',
      // General Image
      InstanceNumber: i + 1,
      PatientOrientation: iop && iop.length === 6 ? [directionLetters(iop.slice(0, 3)), directionLetters(iop.slice(3, 6))] : '',
      ContentDate: date,
      ContentTime: time,
      ImageType: ['DERIVED', 'SECONDARY'],
      // for people, as the PDF says it: the label, slices numbered from 1 in reading order (the finding id, 0-based, is in the SR, JSON and CSV)
      DerivationDescription: k.camSource
        ? `${label ? `${label} ` : ''}${f ? `${f.class} p=${f.score.toFixed(3)}, slices ${sliceRangeOf(ctx, f.sliceStart, f.sliceEnd)}, key slice ${sliceNumberOf(ctx, k.sliceIndex)} (numbered from 1 as the report does); ` : ''}${k.camSource} heatmap burned in (AI output, not for clinical use); reviewer: ${REVIEW_WORDS[captionReview(ctx, k.findingId)]}`
        : `${label ? `${label} ` : ''}${ctx.added.find((a) => a.id === k.findingId)?.class ?? 'finding'} added by the reviewer, slice ${sliceNumberOf(ctx, k.sliceIndex)} (numbered from 1 as the report does); no heatmap (the model did not flag it)`,
      SourceImageSequence: [source],
      BurnedInAnnotation: 'YES',
      LossyImageCompression: '00',
      // SC Image
      DateOfSecondaryCapture: date,
      TimeOfSecondaryCapture: time,
      // Image Pixel
      SamplesPerPixel: 3,
      PhotometricInterpretation: 'RGB',
      PlanarConfiguration: 0,
      Rows: img.height,
      Columns: img.width,
      BitsAllocated: 8,
      BitsStored: 8,
      HighBit: 7,
      PixelRepresentation: 0,
      PixelData: [img.rgb.buffer.slice(img.rgb.byteOffset, img.rgb.byteOffset + img.rgb.byteLength) as ArrayBuffer],
      _vrMap: { PixelData: 'OB' },
    };
    return { findingId: k.findingId, sopInstanceUid, bytes: encodePart10(ds) };
  });
}
