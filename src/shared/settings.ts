/**
 * User settings (settings.json in the app data folder): the viewer edits them through the
 * contract (settings.get / settings.set), the desktop shell reads them at start.
 */
import { z } from 'zod';
import { OPERATING_POINT_ID, PROVIDER_NAMES } from './analysis';
import { CAM_METHOD_NAMES } from './cam';



/** What the Preferences dialog may change (all optional in a settings.set call). */
export const preferencesSchema = z
  .object({
    /** Preferred execution provider (applies at the next start of the engine). */
    provider: z.enum(PROVIDER_NAMES).optional(),
    threads: z.number().int().min(1).max(256).optional(),
    camMethod: z.enum(CAM_METHOD_NAMES).optional(),
    camLayer: z.string().max(256).optional(),
    /** Which of the model card's operating points draws findings (its id); next analysis. */
    operatingPoint: z.string().regex(OPERATING_POINT_ID).optional(),
    /** A folder with your own model (.onnx) and its card (.card.json); next start. */
    modelFolder: z.string().max(4096).optional(),
    /** Where exports go; next start. */
    exportFolder: z.string().max(4096).optional(),
    deidentifyByDefault: z.boolean().optional(),
  })
  .strict();

export type Preferences = z.infer<typeof preferencesSchema>;

const nullable = <T extends z.ZodRawShape>(shape: T) =>
  Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, (v as z.ZodType).nullable()])) as unknown as { [K in keyof T]: z.ZodNullable<T[K]> };

/**
 * settings.set's parameter: any of the preferences, and `null` puts one back to its default
 * (JSON, which the browser bridge speaks, has no `undefined`: a key left out stays as it is).
 */
export const preferencesPatchSchema = z.object(nullable(preferencesSchema.shape)).strict();

export type PreferencesPatch = z.infer<typeof preferencesPatchSchema>;

export const settingsSchema = preferencesSchema
  .extend({
    /**
     * Where the viewer's exports may be sent (DICOM C-STORE): set by whoever installs ReSight, in
     * settings.json or with `resight serve --pacs`, never by the page (it is no preference: a
     * settings.set call cannot carry it, so a compromised page cannot point it elsewhere).
     */
    // kept as written: a mistake in it must not make the whole file invalid (and then be lost
    // with it at the next save); `pacsSettingSchema` checks it where it is used (pacs.get)
    pacs: z.unknown().optional(),
    recent: z.array(z.string().max(4096)).max(10).default([]),
    window: z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int().min(400), height: z.number().int().min(300), maximized: z.boolean() }).partial().default({}),
  })
  .strict();

export type Settings = z.infer<typeof settingsSchema>;

/** settings.json's `pacs`, as the installer writes it. */
export const pacsSettingSchema = z.object({ destination: z.string().max(300), callingAeTitle: z.string().max(64).optional() }).strict();
