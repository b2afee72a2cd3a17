/**
 * The CAM methods, by name: the one list the contract, the settings and the explain engine
 * (core/explain/cam.ts) share, so adding a method is one edit here plus its implementation.
 */
export const CAM_METHOD_NAMES = ['gradcam', 'gradcampp', 'hirescam', 'layercam', 'cam', 'scorecam'] as const;

export type CamMethodName = (typeof CAM_METHOD_NAMES)[number];

/** Each method as its paper names it, for people (menus, reports); the names above are for machines. */
export const CAM_METHOD_LABELS: Record<CamMethodName, string> = {
  gradcam: 'Grad-CAM',
  gradcampp: 'Grad-CAM++',
  hirescam: 'HiResCAM',
  layercam: 'LayerCAM',
  cam: 'CAM',
  scorecam: 'Score-CAM',
};
