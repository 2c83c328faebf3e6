/**
 * AWS tag rules as Lambda applies them to functions and capacity providers:
 * at most 50 tags, keys of 1–128 and values of 0–256 characters drawn from
 * letters, digits, spaces and `_ . : / = + - @`, and no key starting with the
 * reserved `aws:` prefix.
 */
import { checkObject, checkString, pattern, reject, show } from './validation.js';

/** A tag map as the Lambda wire carries it. */
export type Tags = Record<string, string>;

/** Tags one Lambda resource may carry (Lambda's limit). */
export const maxTagsPerResource = 50;

const tagText = pattern('[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*', 'u');
const tagAllowed = 'letters, digits, spaces and _ . : / = + - @';

/**
 * Checks a tag map and returns a copy. `maxTags` defaults to
 * {@link maxTagsPerResource}; PropagateTags.ExplicitTags passes 40.
 */
export function validateTags(value: unknown, path: string, maxTags: number = maxTagsPerResource): Tags {
  const entries = Object.entries(checkObject(value, path));
  if (entries.length > maxTags) reject(`${path} has ${entries.length} tags (allowed: 0–${maxTags} tags)`);
  const tags: Tags = {};
  for (const [key, tagValue] of entries) {
    checkString(key, `${path} key`, { min: 1, max: 128, pattern: tagText, allowed: tagAllowed });
    if (key.toLowerCase().startsWith('aws:')) {
      reject(`${path} key ${show(key)} is reserved (allowed: keys not starting with aws:)`);
    }
    tags[key] = checkString(tagValue, `${path}.${key}`, { min: 0, max: 256, pattern: tagText, allowed: tagAllowed });
  }
  return tags;
}
