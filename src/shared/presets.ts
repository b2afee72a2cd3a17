/** CT window presets radiologists know by number key (OHIF/Weasis convention), in HU. */
import type { WindowInfo } from './dicom';

export interface WindowPreset extends WindowInfo {
  id: string;
  label: string;
  /** Number key in the viewer. */
  key: string;
}

export const CT_PRESETS: readonly WindowPreset[] = [
  { id: 'lung', label: 'Lung', key: '1', width: 1500, center: -600 },
  { id: 'mediastinum', label: 'Mediastinum', key: '2', width: 400, center: 40 },
  { id: 'abdomen', label: 'Abdomen', key: '3', width: 350, center: 40 },
  { id: 'liver', label: 'Liver', key: '4', width: 150, center: 90 },
  { id: 'bone', label: 'Bone', key: '5', width: 2500, center: 480 },
  { id: 'brain', label: 'Brain', key: '6', width: 80, center: 40 },
];

export function presetById(id: string): WindowPreset | undefined {
  return CT_PRESETS.find((p) => p.id === id);
}
