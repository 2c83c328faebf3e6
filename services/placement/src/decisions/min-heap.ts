/**
 * A binary min-heap over a comparator. Placement keeps each zone's candidate
 * instances in one: building it is linear, which matters when a single-EE
 * decision scans a zone of hundreds of instances, and the smallest element is
 * found in O(1) and removed in O(log n).
 */
export class MinHeap<T> {
  private readonly items: T[];

  /** Heapifies `items` in place (Floyd, linear time); the array now belongs to the heap. */
  constructor(
    items: T[],
    private readonly compare: (a: T, b: T) => number,
  ) {
    this.items = items;
    for (let index = (items.length >> 1) - 1; index >= 0; index--) this.siftDown(index);
  }

  get size(): number {
    return this.items.length;
  }

  /** The smallest element, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Removes the smallest element. */
  pop(): T | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last !== undefined) {
      this.items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.compare(items[index]!, items[parent]!) >= 0) break;
      [items[index], items[parent]] = [items[parent]!, items[index]!];
      index = parent;
    }
  }

  private siftDown(start: number): void {
    const items = this.items;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < items.length && this.compare(items[left]!, items[smallest]!) < 0) smallest = left;
      if (right < items.length && this.compare(items[right]!, items[smallest]!) < 0) smallest = right;
      if (smallest === index) return;
      [items[index], items[smallest]] = [items[smallest]!, items[index]!];
      index = smallest;
    }
  }
}
