import type { OrderState } from '../../../shared/trading.ts';

/**
 * The order state machine. A venue may report several steps at once (an IOC order accepted and
 * filled in one reply), so pending-submit and unknown may move straight to any later state.
 * Terminal states (filled, canceled, rejected, expired) never change.
 */
const TRANSITIONS: Readonly<Record<OrderState, readonly OrderState[]>> = {
  new: ['pending-submit', 'rejected'],
  'pending-submit': ['accepted', 'partially-filled', 'filled', 'canceled', 'rejected', 'expired', 'unknown'],
  accepted: ['partially-filled', 'filled', 'pending-cancel', 'canceled', 'expired'],
  'partially-filled': ['partially-filled', 'filled', 'pending-cancel', 'canceled', 'expired'],
  // A refused cancel (already filled elsewhere, or too late) returns to the working state.
  'pending-cancel': ['canceled', 'filled', 'partially-filled', 'accepted', 'expired', 'unknown'],
  // Resolving an unknown order: whatever the venue says it is (or rejected when it never arrived).
  unknown: ['accepted', 'partially-filled', 'filled', 'pending-cancel', 'canceled', 'rejected', 'expired'],
  filled: [],
  canceled: [],
  rejected: [],
  expired: [],
};

export function canTransition(from: OrderState, to: OrderState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function allowedTransitions(from: OrderState): readonly OrderState[] {
  return TRANSITIONS[from];
}
