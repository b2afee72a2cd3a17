/**
 * The DICOM modules every object ReSight exports shares: Patient, General Study, General
 * Equipment, SOP Common with the Contributing Equipment Sequence that identifies the AI
 * algorithm (IHE AI Results), and the de-identification attributes.
 */
import type { ReportContext } from './context';
import type { Code, NaturalDataset } from './dicom-write';
import { codeItem, derivedUid, dicomDateTime } from './dicom-write';

export const APP_NAME = 'ReSight';
export const APP_VERSION = '0.1.0';

/**
 * Purpose of Reference for the algorithm's item in the Contributing Equipment Sequence: DICOM's
 * "Processing Equipment" (CID 7005). IHE AI Results' trial placeholder (Newcode1, 99IHE) was used
 * before; a private scheme would have to be declared in every object that carries it.
 */
export const PROCESSING_ALGORITHM: Code = { value: '109102', scheme: 'DCM', meaning: 'Processing Equipment' };

/** Private coding scheme for ReSight's own concepts (PS3.16: private designators start with 99). */
export const RESIGHT_SCHEME = '99RESIGHT';

/** The model's device UID, stable for one set of weights (derived from its sha256). */
export function algorithmUid(ctx: ReportContext): string {
  return derivedUid('resight-model', ctx.model.sha256);
}

export function patientStudyModules(ctx: ReportContext): NaturalDataset {
  const p = ctx.patient;
  const s = ctx.study;
  const ds: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    PatientName: p.name,
    PatientID: p.id,
    PatientBirthDate: p.birthDate ?? '',
    PatientSex: p.sex ?? '',
    StudyInstanceUID: s.studyInstanceUid,
    StudyDate: s.date ?? '',
    StudyTime: s.time ?? '',
    ReferringPhysicianName: s.referringPhysician ?? '',
    StudyID: s.id ?? '',
    AccessionNumber: s.accessionNumber ?? '',
  };
  if (s.description) ds.StudyDescription = s.description;
  if (s.institution) ds.InstitutionName = s.institution;
  if (ctx.deidentified) {
    ds.PatientIdentityRemoved = 'YES';
    ds.DeidentificationMethod = ctx.deidentified.methodText;
    ds.DeidentificationMethodCodeSequence = ctx.deidentified.methodCodes.map(codeItem);
    // dates shifted (Modified Dates option), or emptied and dummied (PS3.3 C.12.1.1.7: REMOVED)
    ds.LongitudinalTemporalInformationModified = ctx.deidentified.datesShifted ? 'MODIFIED' : 'REMOVED';
  }
  return ds;
}

/** General Equipment plus SOP Common's Contributing Equipment (the algorithm). */
export function equipmentModules(ctx: ReportContext): NaturalDataset {
  const m = ctx.model;
  const { date, time } = dicomDateTime(ctx.createdAt);
  return {
    Manufacturer: APP_NAME,
    ManufacturerModelName: APP_NAME,
    SoftwareVersions: [`${APP_NAME} ${APP_VERSION}`, `${m.name} ${m.version}`],
    ContributingEquipmentSequence: [
      {
        PurposeOfReferenceCodeSequence: [codeItem(PROCESSING_ALGORITHM)],
        Manufacturer: APP_NAME,
        ManufacturerModelName: m.name,
        SoftwareVersions: m.version,
        ContributionDateTime: `${date}${time}`,
        ContributionDescription: `AI lesion classifier ${m.name} ${m.version} (ONNX sha256 ${m.sha256}), ${ctx.cam.method} at ${ctx.cam.layer}, on ${ctx.provider.used}`,
      },
    ],
  };
}

export function sopCommon(sopClassUid: string, sopInstanceUid: string, ctx: ReportContext): NaturalDataset {
  const { date, time } = dicomDateTime(ctx.createdAt);
  return { SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid, InstanceCreationDate: date, InstanceCreationTime: time };
}

/**
 * What every object ReSight exports starts with: Patient, General Study, SOP Common, General
 * Equipment, and a new series of its own in the source study, numbered `base` plus the source
 * series' number modulo 100 (9000+ key images, 9100+ SR, 9200+ Encapsulated PDF: never each
 * other's) and described as `ReSight AI <what> (<model> <version>)`.
 */
export function derivedObject(ctx: ReportContext, sopClassUid: string, sopInstanceUid: string, modality: string, seriesInstanceUid: string, base: 9000 | 9100 | 9200, what: string): NaturalDataset {
  return {
    ...patientStudyModules(ctx),
    ...sopCommon(sopClassUid, sopInstanceUid, ctx),
    ...equipmentModules(ctx),
    Modality: modality,
    SeriesInstanceUID: seriesInstanceUid,
    SeriesNumber: base + ((ctx.series.number ?? 0) % 100),
    SeriesDescription: `ReSight AI ${what} (${ctx.model.name} ${ctx.model.version})`,
  };
}
