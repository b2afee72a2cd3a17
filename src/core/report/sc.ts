/**
 * DICOM Secondary Capture (SC Image Storage, PS3.3 A.8.1): one RGB image per key slice with the
 * heatmap and annotations burned in, in the source study (same Study Instance UID, a new series),
 * referencing the source instance (Source Image Sequence). Burned In Annotation is YES: the
 * pixels carry the overlay, so a PACS shows exactly what the report shows.
 */
import type { ReportContext, KeyImage } from './context';
import type { NaturalDataset } from './dicom-write';
import { codeItem, derivedUid, dicomDateTime, encodePart10 } from './dicom-write';
import { derivedObject } from './dicom-modules';
import { renderKeyImage } from './render';
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

export function secondaryCaptures(ctx: ReportContext, exportId: string): ScObject[] {
  const seriesUid = scSeriesUid(ctx, exportId);
  const { date, time } = dicomDateTime(ctx.createdAt);
  const findingById = new Map(ctx.analysis.findings.map((f) => [f.id, f]));
  return ctx.keyImages.map((k: KeyImage, i) => {
    const img = renderKeyImage(k.image);
    const sopInstanceUid = derivedUid('resight-sc', exportId, k.findingId, k.sopInstanceUid);
    const f = findingById.get(k.findingId);
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
      DerivationDescription: `${f ? `${f.class} p=${f.score.toFixed(3)}, slices ${f.sliceStart}-${f.sliceEnd}; ` : ''}${k.camSource} heatmap burned in (AI output, not for clinical use)`,
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
