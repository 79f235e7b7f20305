/**
 * The RFC 7540 §5.3 dependency tree nghttp 1.52 builds (seen in its -v
 * output): five idle "anchor" streams sent as PRIORITY frames before the
 * first request, which then opens stream 13; each request depends on an
 * anchor, with a weight from what it is. RFC 9113 §5.3.2 deprecates the
 * scheme, but servers still parse the frames, and sending the same ones
 * keeps the stream ids (and so the frames received) equal to nghttp's.
 */
import type { PriorityFields } from '../h2/index.js';
import type { AssetKind } from './assets.js';

/** The anchors, in the order nghttp sends them: "leaders", "unblocked", "background", "speculative", "followers". */
export const ANCHORS: ReadonlyArray<readonly [number, PriorityFields]> = [
  [3, { dependency: 0, weight: 201, exclusive: false }],
  [5, { dependency: 0, weight: 101, exclusive: false }],
  [7, { dependency: 0, weight: 1, exclusive: false }],
  [9, { dependency: 7, weight: 1, exclusive: false }],
  [11, { dependency: 3, weight: 1, exclusive: false }],
];

/** The first request's stream: after the anchors. */
export const FIRST_STREAM_ID = 13;

const LEADERS = 3;
const UNBLOCKED = 5;
const FOLLOWERS = 11;

/** The priority of a URI given on the command line (`weight`: -p, default 16). */
export function pagePriority(weight: number): PriorityFields {
  return { dependency: FOLLOWERS, weight, exclusive: false };
}

/** The priority of an asset found by -a. */
export function assetPriority(kind: AssetKind): PriorityFields {
  switch (kind) {
    case 'css':
    case 'js':
      return { dependency: LEADERS, weight: 32, exclusive: false };
    case 'unblock-js':
      return { dependency: UNBLOCKED, weight: 32, exclusive: false };
    case 'image':
      return { dependency: FOLLOWERS, weight: 12, exclusive: false };
    default:
      return { dependency: FOLLOWERS, weight: 32, exclusive: false };
  }
}
