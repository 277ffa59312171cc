// Saves bytes as a file through the browser's download (an object URL on a clicked link).
export function saveDownload(name: string, mime: string, bytes: ArrayBuffer): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once the click's task is done.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
