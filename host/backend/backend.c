/* Backend-independent parts of the backend handle. */
#include "backend/backend.h"

#include <stdlib.h>

void clf_backend_close(clf_backend *be)
{
    if (!be)
        return;
    be->ops->destroy(be);
    free(be);
}

const clf_device_desc *clf_backend_device(const clf_backend *be)
{
    return &be->desc;
}

const char *clf_backend_kind(const clf_backend *be)
{
    return be->ops->kind;
}
