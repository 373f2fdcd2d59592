// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

export const FlaskMode = {
  FLASK_MODE_UNSPECIFIED: 'FLASK_MODE_UNSPECIFIED',
  FLASK_MODE_ENFORCING: 'FLASK_MODE_ENFORCING',
  FLASK_MODE_PERMISSIVE: 'FLASK_MODE_PERMISSIVE',
} as const;

export type FlaskMode =
  | 'FLASK_MODE_UNSPECIFIED'
  | 0
  | 'FLASK_MODE_ENFORCING'
  | 1
  | 'FLASK_MODE_PERMISSIVE'
  | 2

export type FlaskMode__Output = typeof FlaskMode[keyof typeof FlaskMode]
