import { useEffect, useState } from 'react';

/** Whether `element` is in the viewport (true until the observer first says otherwise, and where
 * there is no IntersectionObserver). Live charts skip redraws while it is false. Pass the element
 * from a callback ref (`ref={setElement}`), so an element mounted later is observed too. */
export function useOnScreen(element: Element | null): boolean {
  const [onScreen, setOnScreen] = useState(true);
  useEffect(() => {
    if (!element || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => setOnScreen(entries[entries.length - 1].isIntersecting));
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return onScreen;
}
