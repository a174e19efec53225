/**
 * A plan's 'any' status as one FHIR token search: a comma between values means OR (FHIR R4
 * search, "multiple values"). Studies cancelled or entered in error are never work.
 */
export const ANY_STATUS = 'registered,available';
