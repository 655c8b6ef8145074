import type { Metadata } from "next";
import { EnvironmentDetail } from "@/components/environments/environment-detail";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  return { title: `Environment ${id}` };
}

export default async function Page({ params }: Props) {
  const { id } = await params;
  return <EnvironmentDetail id={id} />;
}
