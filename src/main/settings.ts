/** The desktop app's settings: the settings file and bring-your-own models (core/settings/file.ts). */
export { loadSettings, modelCardIn, saveSettings, updateSettings } from '../core/settings/file';
export type { Settings } from '../shared/settings';
