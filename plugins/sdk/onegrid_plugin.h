/*
 * onegrid_plugin.h - the OneGrid department plugin ABI (C, stable).
 *
 * A plugin is a shared library that a department builds on its own, with any C or C++ compiler,
 * and drops into OneGrid's plugins folder. It offers the department's business grid layers, the
 * incident categories it handles, a routing callback and optional lifecycle hooks.
 *
 * Stability
 *   - Everything here is plain C: fixed-width integers, plain structs, function pointers.
 *   - ONEGRID_PLUGIN_ABI_MAJOR changes only for incompatible changes; the host refuses a plugin
 *     whose major differs from its own.
 *   - ONEGRID_PLUGIN_ABI_MINOR grows when structs grow at their end. Every struct begins with
 *     `struct_size`; readers never touch fields beyond it. The host refuses a plugin built for a
 *     newer minor than it knows (the plugin might rely on host functions it does not have).
 *   - Strings are UTF-8 and NUL-terminated. Pointers handed to a callback are valid only during
 *     that call; copy what you keep. Pointers the plugin hands to the host are copied by the host
 *     before the call returns.
 *   - Never let an exception or a longjmp cross this boundary: return an error code and describe
 *     the problem with onegrid_host_api::set_error (the C++ helper onegrid_plugin.hpp does it).
 *
 * Entry points (the only symbols a plugin exports; build with -fvisibility=hidden)
 *   const onegrid_plugin_magic* onegrid_plugin_abi(void);          since ABI 1.0
 *       Called first, before anything else in the library runs. Return a pointer to a static
 *       struct made with ONEGRID_PLUGIN_MAGIC_INIT. The host compares magic and ABI numbers.
 *   int onegrid_plugin_init(const onegrid_host_api* host);           since ABI 1.0
 *       Called once after the magic check. Register what the plugin offers through `host`;
 *       return ONEGRID_OK, or an error code after host->set_error(). On error the host unloads
 *       the plugin and carries on without it.
 *
 * Threading: callbacks may be called from several threads at once; keep them reentrant.
 */
#ifndef ONEGRID_PLUGIN_H
#define ONEGRID_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONEGRID_PLUGIN_ABI_MAJOR 1
#define ONEGRID_PLUGIN_ABI_MINOR 0
#define ONEGRID_PLUGIN_MAGIC_VALUE 0x4F4E4547u /* 'ONEG' */

#if defined(_WIN32)
#define ONEGRID_PLUGIN_EXPORT __declspec(dllexport)
#else
#define ONEGRID_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Return codes. */
#define ONEGRID_OK 0
#define ONEGRID_ERROR (-1)          /* a failure; details through set_error */
#define ONEGRID_INVALID (-2)        /* an argument was not acceptable */

/* Routing results. */
#define ONEGRID_ROUTE_DECLINE 0     /* not this plugin's case; the rules table decides */
#define ONEGRID_ROUTE_ACCEPT 1      /* `out` names the department and sub-unit */

/* Log levels for onegrid_host_api::log. */
#define ONEGRID_LOG_DEBUG 0
#define ONEGRID_LOG_INFO 1
#define ONEGRID_LOG_WARNING 2
#define ONEGRID_LOG_ERROR 3

/* The magic struct: padding-free, compared field by field by the host. */
typedef struct onegrid_plugin_magic {
    uint32_t struct_size; /* sizeof(onegrid_plugin_magic) */
    uint32_t magic;       /* ONEGRID_PLUGIN_MAGIC_VALUE */
    uint32_t abi_major;   /* ONEGRID_PLUGIN_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* ONEGRID_PLUGIN_ABI_MINOR the plugin was built with */
} onegrid_plugin_magic;

#define ONEGRID_PLUGIN_MAGIC_INIT \
    { (uint32_t)sizeof(onegrid_plugin_magic), ONEGRID_PLUGIN_MAGIC_VALUE, ONEGRID_PLUGIN_ABI_MAJOR, ONEGRID_PLUGIN_ABI_MINOR }

/* Who the plugin is. */
typedef struct onegrid_plugin_info {
    uint32_t struct_size;
    const char* id;              /* short, unique: "policing" */
    const char* department_code; /* the department it speaks for: "police" */
    const char* department_name; /* "蓬莱区公安分局" */
    const char* version;         /* the plugin's own version: "1.2.0" */
} onegrid_plugin_info;

/* A business grid layer. Give `source` (a GDAL vector file, relative to the plugin file) or hand
 * the features over one by one with add_feature() after add_layer(). Geometries are in EPSG:4490
 * (sources in another system are transformed by the host). */
typedef struct onegrid_layer_decl {
    uint32_t struct_size;
    const char* id;            /* unique across plugins; by convention "<plugin>.<name>" */
    const char* title;         /* "派出所辖区" */
    const char* source;        /* "policing.gpkg", or NULL when features are handed over */
    const char* source_layer;  /* layer in the source, or NULL for the first polygon layer */
    const char* id_field;      /* field with each unit's code (default "code") */
    const char* name_field;    /* field with each unit's name (default "name") */
    const char* const* attributes; /* attribute names of the layer's schema (may be NULL) */
    uint32_t attribute_count;
} onegrid_layer_decl;

/* One feature handed over through the API. */
typedef struct onegrid_feature {
    uint32_t struct_size;
    const char* code;
    const char* name;
    const char* wkt;           /* POLYGON or MULTIPOLYGON in EPSG:4490 (longitude latitude) */
    const char* const* keys;   /* attribute names, `attribute_count` of them */
    const char* const* values; /* attribute values, same order */
    uint32_t attribute_count;
} onegrid_feature;

/* An incident category the plugin handles, with its time limit. */
typedef struct onegrid_category_decl {
    uint32_t struct_size;
    const char* code;          /* 4 digits: "1101" */
    const char* name;          /* "治安隐患" */
    const char* major_class;   /* "公共安全" */
    double time_limit;
    int32_t limit_in_workdays; /* 0: hours (around the clock), 1: working days */
} onegrid_category_decl;

/* The grid of the incident in one business layer. */
typedef struct onegrid_business_grid {
    const char* layer;
    const char* code;          /* "" when the incident lies in no unit of that layer */
} onegrid_business_grid;

/* What a routing callback sees of an incident. */
typedef struct onegrid_incident_view {
    uint32_t struct_size;
    int64_t id;                /* 0 before the incident is stored */
    const char* category;
    const char* description;
    double lon;                /* EPSG:4490 */
    double lat;
    const char* grid;          /* base grid code ("" outside the district) */
    const char* community;
    const char* town;
    const char* department;    /* the department it is dispatched to ("" before) */
    const char* sub_unit;
    const char* status;        /* reported, registered, dispatched, ... */
    const onegrid_business_grid* business;
    uint32_t business_count;
} onegrid_incident_view;

/* A routing decision, filled by the plugin. */
typedef struct onegrid_route_result {
    uint32_t struct_size;
    char department[64];       /* the department code */
    char sub_unit[192];        /* e.g. the police station */
} onegrid_route_result;

/* An error description, filled by a failing callback. */
typedef struct onegrid_error {
    uint32_t struct_size;
    char message[512];
} onegrid_error;

/* Routing callback: return ONEGRID_ROUTE_ACCEPT with `out` filled, ONEGRID_ROUTE_DECLINE, or a
 * negative error code with `error->message` filled. */
typedef int (*onegrid_route_fn)(void* user, const onegrid_incident_view* incident, onegrid_route_result* out,
                                onegrid_error* error);

/* Lifecycle hooks (optional): told after the host has recorded the change. Return ONEGRID_OK or
 * a negative code with `error` filled; failures are logged and change nothing. */
typedef int (*onegrid_incident_hook_fn)(void* user, const onegrid_incident_view* incident, onegrid_error* error);

typedef struct onegrid_lifecycle_hooks {
    uint32_t struct_size;
    onegrid_incident_hook_fn on_dispatched; /* may be NULL */
    onegrid_incident_hook_fn on_closed;     /* may be NULL */
    void* user;
} onegrid_lifecycle_hooks;

/* The host's table. Pass `host->host` back as the first argument of every call. */
typedef struct onegrid_host_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    void* host;

    int (*set_info)(void* host, const onegrid_plugin_info* info);
    int (*add_layer)(void* host, const onegrid_layer_decl* layer);
    int (*add_feature)(void* host, const char* layer_id, const onegrid_feature* feature);
    int (*add_category)(void* host, const onegrid_category_decl* category);
    int (*set_routing)(void* host, onegrid_route_fn fn, void* user);
    int (*set_hooks)(void* host, const onegrid_lifecycle_hooks* hooks);
    /* The name of a unit of one of this plugin's layers, or NULL (valid until the plugin unloads). */
    const char* (*unit_name)(void* host, const char* layer_id, const char* code);
    /* The directory that holds the plugin file (for data shipped with it). */
    const char* (*plugin_dir)(void* host);
    void (*log)(void* host, int level, const char* message);
    /* Describe why a call failed; the host quotes it when it reports the failure. */
    void (*set_error)(void* host, const char* message);
} onegrid_host_api;

/* Signatures of the entry points (for the host's dlsym). */
typedef const onegrid_plugin_magic* (*onegrid_plugin_magic_fn)(void);
typedef int (*onegrid_plugin_init_fn)(const onegrid_host_api* host);

#ifdef __cplusplus
}
#endif

#endif /* ONEGRID_PLUGIN_H */
