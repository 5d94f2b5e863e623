///API group module `example_com`.
pub mod example_com {
    ///Version v1 of group module `example_com`.
    #[allow(clippy::all, missing_docs, non_camel_case_types, unused_imports)]
    pub mod v1 {
        /// `com.example.v1.Widget`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct Widget {
            #[serde(
                rename = "apiVersion",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub api_version: ::std::option::Option<::std::string::String>,
            #[serde(
                rename = "kind",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub kind: ::std::option::Option<::std::string::String>,
            #[serde(
                rename = "metadata",
                default,
                deserialize_with = "::kapi_runtime::apimachinery::serde_util::null_default"
            )]
            pub metadata: ::kapi_runtime::apimachinery::ObjectMeta,
            #[serde(
                rename = "spec",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub spec: ::std::option::Option<super::super::example_com::v1::WidgetSpec>,
            #[serde(
                rename = "status",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub status: ::std::option::Option<
                super::super::example_com::v1::WidgetStatus,
            >,
        }
        ///Schema tree of `com.example.v1.Widget`.
        pub static WIDGET_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1.Widget",
            properties: &[
                (
                    "apiVersion",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "kind",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "metadata",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &::kapi_runtime::apimachinery::schema::wellknown::OBJECT_META_OBJECT,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "spec",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &super::super::example_com::v1::WIDGET_SPEC_SCHEMA,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "status",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                            &super::super::example_com::v1::WIDGET_STATUS_SCHEMA,
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &[],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        /// `com.example.v1.WidgetSpec`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct WidgetSpec {
            #[serde(
                rename = "color",
                default,
                deserialize_with = "::kapi_runtime::apimachinery::serde_util::null_default"
            )]
            pub color: ::std::string::String,
            #[serde(
                rename = "extra",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub extra: ::std::option::Option<
                ::kapi_runtime::__private::serde_json::Value,
            >,
            #[serde(
                rename = "labels",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub labels: ::std::option::Option<
                ::std::collections::BTreeMap<
                    ::std::string::String,
                    ::std::string::String,
                >,
            >,
            #[serde(
                rename = "parts",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub parts: ::std::option::Option<
                ::std::vec::Vec<super::super::example_com::v1::WidgetSpecParts>,
            >,
            #[serde(
                rename = "replicas",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub replicas: ::std::option::Option<i32>,
            #[serde(
                rename = "size",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub size: ::std::option::Option<::kapi_runtime::apimachinery::IntOrString>,
        }
        ///Schema tree of `com.example.v1.WidgetSpec`.
        pub static WIDGET_SPEC_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1.WidgetSpec",
            properties: &[
                (
                    "color",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        default: ::std::option::Option::Some("\"red\""),
                        enum_values: &["\"red\"", "\"blue\""],
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "extra",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Any,
                        preserve_unknown_fields: true,
                        proto: ::kapi_runtime::apimachinery::schema::Proto {
                            number: 0u32,
                            ty: ::kapi_runtime::apimachinery::schema::ProtoType::RawExtension,
                            omit_zero: false,
                        },
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "labels",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Map(
                            &::kapi_runtime::apimachinery::schema::Schema {
                                ty: ::kapi_runtime::apimachinery::schema::Type::String,
                                ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                            },
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "parts",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Array(
                            &::kapi_runtime::apimachinery::schema::Schema {
                                ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                                    &super::super::example_com::v1::WIDGET_SPEC_PARTS_SCHEMA,
                                ),
                                ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                            },
                        ),
                        list_type: ::kapi_runtime::apimachinery::schema::ListType::Map(
                            &["name"],
                        ),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "replicas",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Integer,
                        format: ::std::option::Option::Some("int32"),
                        minimum: ::std::option::Option::Some(0f64),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "size",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Any,
                        int_or_string: true,
                        proto: ::kapi_runtime::apimachinery::schema::Proto {
                            number: 0u32,
                            ty: ::kapi_runtime::apimachinery::schema::ProtoType::IntOrString,
                            omit_zero: false,
                        },
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &["color"],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        /// `com.example.v1.WidgetSpecParts`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct WidgetSpecParts {
            #[serde(
                rename = "name",
                default,
                deserialize_with = "::kapi_runtime::apimachinery::serde_util::null_default"
            )]
            pub name: ::std::string::String,
            #[serde(
                rename = "weight",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub weight: ::std::option::Option<f64>,
        }
        ///Schema tree of `com.example.v1.WidgetSpecParts`.
        pub static WIDGET_SPEC_PARTS_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1.WidgetSpecParts",
            properties: &[
                (
                    "name",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::String,
                        pattern: ::std::option::Option::Some("^[a-z]+$"),
                        max_length: ::std::option::Option::Some(63u64),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
                (
                    "weight",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Number,
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &["name"],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        /// `com.example.v1.WidgetStatus`
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct WidgetStatus {
            #[serde(
                rename = "replicas",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub replicas: ::std::option::Option<i32>,
        }
        ///Schema tree of `com.example.v1.WidgetStatus`.
        pub static WIDGET_STATUS_SCHEMA: ::kapi_runtime::apimachinery::schema::ObjectSchema = ::kapi_runtime::apimachinery::schema::ObjectSchema {
            name: "com.example.v1.WidgetStatus",
            properties: &[
                (
                    "replicas",
                    ::kapi_runtime::apimachinery::schema::Schema {
                        ty: ::kapi_runtime::apimachinery::schema::Type::Integer,
                        format: ::std::option::Option::Some("int32"),
                        ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
                    },
                ),
            ],
            required: &[],
            additional_properties: ::std::option::Option::None,
            preserve_unknown_fields: false,
            protobuf: false,
            proto_embedded: &[],
        };
        ///A list of `Widget` objects (`example.com/v1` `WidgetList`).
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            ::kapi_runtime::__private::serde::Serialize,
            ::kapi_runtime::__private::serde::Deserialize
        )]
        #[serde(crate = "::kapi_runtime::__private::serde")]
        pub struct WidgetList {
            /// APIVersion of the list.
            #[serde(
                rename = "apiVersion",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub api_version: ::std::option::Option<::std::string::String>,
            /// Kind of the list.
            #[serde(
                rename = "kind",
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub kind: ::std::option::Option<::std::string::String>,
            /// Standard list metadata.
            #[serde(rename = "metadata", default)]
            pub metadata: ::kapi_runtime::apimachinery::ListMeta,
            /// The objects.
            #[serde(rename = "items", default)]
            pub items: ::std::vec::Vec<super::super::example_com::v1::Widget>,
        }
        /// Root schema of the kind.
        pub static WIDGET_ROOT_SCHEMA: ::kapi_runtime::apimachinery::schema::Schema = ::kapi_runtime::apimachinery::schema::Schema {
            ty: ::kapi_runtime::apimachinery::schema::Type::Object(
                &super::super::example_com::v1::WIDGET_SCHEMA,
            ),
            ..::kapi_runtime::apimachinery::schema::Schema::DEFAULT
        };
        ///Registry facts of `example.com/v1` `Widget`.
        pub static WIDGET_INFO: ::kapi_runtime::apimachinery::KindInfo = ::kapi_runtime::apimachinery::KindInfo {
            group: "example.com",
            version: "v1",
            kind: "Widget",
            list_kind: "WidgetList",
            plural: "widgets",
            singular: "widget",
            short_names: &["wd"],
            categories: &[],
            scope: ::kapi_runtime::apimachinery::Scope::Namespaced,
            served: true,
            storage: true,
            deprecated: false,
            deprecation_warning: ::std::option::Option::None,
            definition: "com.example.v1.Widget",
            schema: &WIDGET_ROOT_SCHEMA,
            status_subresource: true,
            scale: ::std::option::Option::Some(::kapi_runtime::apimachinery::ScaleInfo {
                spec_replicas_path: ".spec.replicas",
                status_replicas_path: ".status.replicas",
                label_selector_path: ::std::option::Option::None,
            }),
            extra_subresources: &[],
            strategy: ::std::option::Option::None,
            printer_columns: &[
                ::kapi_runtime::apimachinery::PrinterColumn {
                    name: "Color",
                    type_: "string",
                    format: "",
                    description: "",
                    priority: 0i32,
                    json_path: ".spec.color",
                    printer: ::std::option::Option::None,
                },
            ],
            selectable_fields: &["spec.color"],
            proto_package: "com.example.v1",
            verbs: &[],
            conversion: ::kapi_runtime::apimachinery::conversion::Conversion::None,
            hooks: ::kapi_runtime::apimachinery::Hooks {
                default: ::std::option::Option::None,
                prepare_for_create: ::std::option::Option::None,
                prepare_for_update: ::std::option::Option::None,
                validate_create: ::std::option::Option::None,
                validate_update: ::std::option::Option::None,
            },
        };
        impl ::kapi_runtime::apimachinery::Resource
        for super::super::example_com::v1::Widget {
            const INFO: &'static ::kapi_runtime::apimachinery::KindInfo = &WIDGET_INFO;
            fn metadata(&self) -> &::kapi_runtime::apimachinery::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ::kapi_runtime::apimachinery::ObjectMeta {
                &mut self.metadata
            }
        }
    }
}
/// Every kind in every version, in (group, version, kind) order: the registry table.
pub static KINDS: &[&::kapi_runtime::apimachinery::KindInfo] = &[
    &example_com::v1::WIDGET_INFO,
];
