/**
 * DICOM Encapsulated PDF (PS3.3 A.45.1): the PDF report wrapped as a DICOM object in the source
 * study (same Study Instance UID, a new series of Modality DOC), so it is archived and shown in
 * the PACS beside the images it is about — how hospitals store reports that are not structured.
 * The PDF's bytes are stored unchanged (Encapsulated Document, padded to even length; Encapsulated
 * Document Length gives the true length). The key images it shows are listed in Source Instance
 * Sequence; Burned In Annotation says whether its text identifies the patient (NO once
 * de-identified).
 */
import type { ReportContext } from './context';
import { draftReasons, reviewStatus } from './context';
import type { NaturalDataset } from './dicom-write';
import { derivedUid, dicomDateTime, encodePart10 } from './dicom-write';
import { derivedObject } from './dicom-modules';

export const ENCAPSULATED_PDF_STORAGE = '1.2.840.10008.5.1.4.1.1.104.1';

export interface EncapsulatedPdf {
  sopInstanceUid: string;
  bytes: Uint8Array;
}

/** UIDs derive from the export id: objects of one export agree, a retry writes the same ones. */
export function encapsulatedPdf(ctx: ReportContext, pdf: Uint8Array, exportId: string): EncapsulatedPdf {
  const seriesUid = derivedUid('resight-epdf-series', exportId, ctx.series.seriesInstanceUid);
  const sopInstanceUid = derivedUid('resight-epdf', exportId, ctx.series.seriesInstanceUid);
  const { date, time } = dicomDateTime(ctx.createdAt);
  // OB needs an even length: one trailing NUL, which the stated length leaves out
  const padded = new Uint8Array(pdf.byteLength + (pdf.byteLength % 2));
  padded.set(pdf);
  // each instance once (two key frames of one multi-frame instance are one source instance)
  const sources = [...new Map(ctx.keyImages.map((k) => [k.sopInstanceUid, { ReferencedSOPClassUID: k.sopClassUid, ReferencedSOPInstanceUID: k.sopInstanceUid }])).values()];
  const ds: NaturalDataset = {
    // Encapsulated Document Series
    ...derivedObject(ctx, ENCAPSULATED_PDF_STORAGE, sopInstanceUid, 'DOC', seriesUid, 9200, 'report'),
    // SC Equipment: a workstation made it
    ConversionType: 'WSD',
    // Encapsulated Document
    InstanceNumber: 1,
    ContentDate: date,
    ContentTime: time,
    AcquisitionDateTime: '',
    BurnedInAnnotation: ctx.deidentified ? 'NO' : 'YES',
    ...(sources.length ? { SourceInstanceSequence: sources } : {}),
    // a PACS study list shows the title: a draft must read as one there, before anyone opens it
    DocumentTitle: `${draftReasons(reviewStatus(ctx)).length ? 'DRAFT - ' : ''}ReSight AI second-reader report (not for clinical use)`,
    ConceptNameCodeSequence: [],
    MIMETypeOfEncapsulatedDocument: 'application/pdf',
    EncapsulatedDocument: [padded.buffer],
    EncapsulatedDocumentLength: pdf.byteLength,
  };
  return { sopInstanceUid, bytes: encodePart10(ds) };
}
