/**
 * Transfer syntaxes ReSight reads, and how. One table so that scan, decode, `resight info`
 * and the docs agree on what is supported.
 */
export type CodecId =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'htj2k';

export interface TransferSyntax {
  uid: string;
  name: string;
  explicitVR: boolean;
  littleEndian: boolean;
  /** Pixel data is encapsulated (fragments + basic offset table). */
  encapsulated: boolean;
  /** The data set after File Meta is deflated (raw DEFLATE). */
  deflated: boolean;
  /** Lossy by definition of the syntax (the LossyImageCompression tag may say so too). */
  lossy: boolean;
  codec: CodecId | null;
}

const ts = (
  uid: string,
  name: string,
  codec: CodecId | null,
  extra: Partial<Omit<TransferSyntax, 'uid' | 'name' | 'codec'>> = {},
): TransferSyntax => ({
  uid,
  name,
  codec,
  explicitVR: true,
  littleEndian: true,
  encapsulated: codec !== 'native' && codec !== null,
  deflated: false,
  lossy: false,
  ...extra,
});

export const TRANSFER_SYNTAXES: readonly TransferSyntax[] = [
  ts('1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native', { explicitVR: false }),
  ts('1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native'),
  ts('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
  ts('1.2.840.10008.1.2.2', 'Explicit VR Big Endian (retired)', 'native', { littleEndian: false }),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg-baseline', { lossy: true }),
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'jpeg-extended', { lossy: true }),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [SV1])', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)', 'jpeg-ls', { lossy: true }),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 (Lossless Only)', 'jpeg2000'),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg2000', { lossy: true }),
  ts('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)', 'htj2k'),
  ts('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', 'htj2k'),
  ts('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000', 'htj2k', { lossy: true }),
  // Known but not decodable here: listed so errors can name them.
  ts('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile @ Main Level', null, { encapsulated: true, lossy: true }),
  ts('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile', null, { encapsulated: true, lossy: true }),
  ts('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', null, { encapsulated: true }),
  ts('1.2.840.10008.1.2.4.112', 'JPEG XL', null, { encapsulated: true, lossy: true }),
];

const BY_UID = new Map(TRANSFER_SYNTAXES.map((t) => [t.uid, t]));

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';

export function lookupTransferSyntax(uid: string): TransferSyntax | undefined {
  return BY_UID.get(uid);
}

export function transferSyntaxName(uid: string): string {
  return BY_UID.get(uid)?.name ?? `unknown transfer syntax ${uid}`;
}

/** Can ReSight decode pixel data in this syntax? */
export function isDecodable(uid: string): boolean {
  return BY_UID.get(uid)?.codec != null;
}
