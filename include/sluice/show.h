/* sluice/show.h — `sluice pipeline NAME show`: a local, read-only web page
 * over a pipeline (libmicrohttpd, bound to 127.0.0.1 only).
 *
 *   GET /                 the page (inline HTML/CSS/JS, works offline)
 *   GET /api/overview     sl_pipeline_info_json
 *   GET /api/table?name=T&offset=O&limit=L
 *                         {"table","offset","limit","total","columns","rows"}
 *   GET /api/query?sql=S  {"rows": [...]} — read-only (writes are refused
 *                         with HTTP 400 {"error": …})
 *   GET /api/traces       every saved trace, newest first
 *
 * Requests whose Host is not 127.0.0.1 / localhost are refused (DNS
 * rebinding), only GET and HEAD are served, and the destination is opened
 * per request and closed again, so a `sluice run` can load in between.
 *
 * Memory rule: the server borrows the pipeline handle until sl_show_stop;
 * the caller keeps it open and does not use it meanwhile.
 */
#ifndef SLUICE_SHOW_H
#define SLUICE_SHOW_H

#include "sluice/pipeline.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_show sl_show;

/* Start serving on 127.0.0.1:port (0: any free port). SL_IO when the port is taken. */
sl_show *sl_show_start(sl_pipeline *p, unsigned port, sl_error *err);
unsigned sl_show_port(const sl_show *s);
void sl_show_stop(sl_show *s);

#ifdef __cplusplus
}
#endif
#endif
