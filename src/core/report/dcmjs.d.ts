// dcmjs ships no type declarations; core/report/dicom-write.ts types the parts it uses.
declare module 'dcmjs' {
  export const data: unknown;
}
